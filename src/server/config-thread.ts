import { Worker } from 'node:worker_threads';
import { fromData, SLICE, treeBuilder, type ConfigHead, type NodeShell } from '../config/positions.ts';
import type { ConfigVerdict } from '../config/section.ts';
import type { ConfigIssue } from '../errors.ts';
import type { ConfigOverrides } from './config-sections.ts';
import { workerEntry } from '../worker-entry.ts';

type Answer =
  | { id: number; issues: ConfigIssue[]; warnings: ConfigIssue[]; head?: ConfigHead }
  | { id: number; slice: NodeShell[] };

/**
 * validateConfig on a worker thread: the same verdict, while the event loop keeps serving.
 * One thread, started on the first reload and kept until close (starting one loads the
 * config code into it, seconds on a busy machine), answers one request at a time; a valid
 * config's tree comes over in slices, one per event-loop turn here.
 */
export class ConfigValidator {
  private worker: Worker | undefined;
  private current: { id: number; file: string; resolve: (v: ConfigVerdict) => void; onAnswer: (a: Answer) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private closed = false;

  /** Resolves (never rejects) with the verdict, or with one issue when the thread died. */
  validate(file: string, overrides: ConfigOverrides = {}): Promise<ConfigVerdict> {
    const run = this.queue.then(() => this.run(file, overrides));
    this.queue = run;
    return run;
  }

  /** Stops the thread; a pending request is answered with an issue. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.fail('the server is stopping');
    await w?.terminate();
  }

  private run(file: string, overrides: ConfigOverrides): Promise<ConfigVerdict> {
    if (this.closed) return Promise.resolve({ issues: [{ file, line: 0, column: 0, path: '', message: 'the config could not be checked: the server is stopping' }], warnings: [] });
    const id = ++this.seq;
    const worker = this.thread();
    return new Promise<ConfigVerdict>((resolve) => {
      let head: ConfigHead | undefined;
      let verdict: ConfigVerdict;
      const tree = treeBuilder();
      let slice = 0;
      this.current = {
        id, file, resolve,
        onAnswer: (a) => {
          if ('issues' in a) {
            verdict = { issues: a.issues, warnings: a.warnings };
            head = a.head;
            if (!head) return this.done(verdict);
          } else {
            tree.add(a.slice);
            slice++;
          }
          if (slice * SLICE >= head!.nodes) {
            verdict.config = fromData(head!, tree.tree());
            return this.done(verdict);
          }
          // The next slice after this turn: requests waiting here are served in between.
          setImmediate(() => worker.postMessage({ id, slice }));
        },
      };
      worker.postMessage({ id, file, overrides });
    });
  }

  private done(verdict: ConfigVerdict): void {
    const c = this.current!;
    this.current = undefined;
    c.resolve(verdict);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry('config-worker', import.meta.url);
    const w = entry.typescript
      ? new Worker(new URL('./config-worker.mjs', import.meta.url)) // registers tsx, then imports config-worker.ts
      : new Worker(entry.url);
    w.unref();
    w.on('message', (a: Answer) => {
      if (this.current?.id === a.id) this.current.onAnswer(a);
    });
    w.on('error', (e) => this.died(w, e.message));
    w.on('exit', (code) => this.died(w, `its thread exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private died(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.fail(why);
  }

  private fail(why: string): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    c.resolve({ issues: [{ file: c.file, line: 0, column: 0, path: '', message: `the config could not be checked: ${why}` }], warnings: [] });
  }
}
