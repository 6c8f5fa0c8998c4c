/**
 * Long-polls waiting on a key (an agent's queue, a task's version): each waits until woken,
 * until its time is up or until its signal aborts, whichever comes first.
 */
export class Waiters {
  private byKey = new Map<string, Set<() => void>>();

  /** Resolves when `key` is woken, after `ms`, or when `signal` aborts. */
  wait(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byKey.get(key);
      if (!set) this.byKey.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(t);
        set!.delete(done);
        if (!set!.size && this.byKey.get(key) === set) this.byKey.delete(key);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes everything waiting on `key`. */
  wake(key: string): void {
    for (const w of [...(this.byKey.get(key) ?? [])]) w();
  }

  /** Wakes everything (shutdown). */
  wakeAll(): void {
    for (const key of [...this.byKey.keys()]) this.wake(key);
  }
}
