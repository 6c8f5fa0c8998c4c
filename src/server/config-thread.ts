import { Worker } from 'node:worker_threads';
import { fromData, type ConfigData } from '../config/positions.ts';
import type { ConfigVerdict } from '../config/section.ts';
import type { ConfigIssue } from '../errors.ts';
import type { ConfigOverrides } from './config-sections.ts';

/** A thread left idle this long is stopped (it holds the module graph); the next reload starts one. */
const IDLE_MS = 60_000;

interface Answer { id: number; issues: ConfigIssue[]; warnings: ConfigIssue[]; config?: ConfigData }

/**
 * validateConfig on a worker thread: the same verdict, while the event loop keeps serving.
 * One thread, started on first use, answers requests in order.
 */
export class ConfigValidator {
  private worker: Worker | undefined;
  private pending = new Map<number, { file: string; resolve: (v: ConfigVerdict) => void }>();
  private seq = 0;
  private idle: NodeJS.Timeout | undefined;

  /** Resolves (never rejects) with the verdict, or with one issue when the thread died. */
  validate(file: string, overrides: ConfigOverrides = {}): Promise<ConfigVerdict> {
    clearTimeout(this.idle);
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, { file, resolve });
      this.thread().postMessage({ id, file, overrides });
    });
  }

  /** Stops the thread; pending requests are answered with an issue. */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    this.fail('the server is stopping');
    await w?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./config-worker.mjs', import.meta.url));
    w.unref();
    w.on('message', (m: Answer) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      const verdict: ConfigVerdict = { issues: m.issues, warnings: m.warnings };
      if (m.config) verdict.config = fromData(m.config);
      p.resolve(verdict);
      if (this.pending.size === 0) {
        this.idle = setTimeout(() => void this.stopIdle(w), IDLE_MS);
        this.idle.unref();
      }
    });
    w.on('error', (e) => this.died(w, e.message));
    w.on('exit', (code) => this.died(w, `its thread exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private async stopIdle(w: Worker): Promise<void> {
    if (this.worker !== w || this.pending.size) return;
    this.worker = undefined;
    await w.terminate();
  }

  private died(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.fail(why);
  }

  private fail(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.resolve({ issues: [{ file: p.file, line: 0, column: 0, path: '', message: `the config could not be checked: ${why}` }], warnings: [] });
    }
  }
}
