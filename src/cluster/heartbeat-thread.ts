/**
 * This server's heartbeat, off the main thread: a worker thread (heartbeat-worker.ts) with its
 * own PostgreSQL connection writes the row every heartbeat_s, so that a main thread busy for
 * seconds (a synchronous read of histories on the VictoriaMetrics backend, at a start or a
 * takeover) keeps its place in the live set. The main thread stamps its progress into shared
 * memory from a short timer; the worker writes no beat once that stamp is older than the
 * stall bound (cluster.stall_s), so a wedged server drops out as a dead one would. The rows
 * each beat read come back as messages, applied by the main thread when its loop runs.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-entry.ts';
import { BeatClock } from './heartbeat.ts';
import type { BeatRows } from './heartbeat-pg.ts';

/** What the worker is started with (its first message). */
export interface BeatSetup {
  buffer: SharedArrayBuffer;
  /** cluster.coordination. */
  coordination: string;
  server: string;
  /** The URL this server advertises. */
  url: string;
  heartbeatMs: number;
  deadAfterMs: number;
  stallMs: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
}

/** What the worker reports: ready for its setup, a beat written (the rows it read), a failure, beats held (the main thread's last progress was this many ms old), stopped. */
export type BeatReport =
  | { ready: true }
  | { beat: Beat }
  | { error: string }
  | { held: number }
  | { stopped: true };

/** A beat written: what it read, and when it was started (ms, this machine's clock). */
export interface Beat extends BeatRows {
  at: number;
}

/** How often the main thread stamps its progress. */
const PROGRESS_MS = 200;
/** How long a stop waits for the worker to end its connection before ending the thread anyway. */
const STOP_WAIT_MS = 20_000;

export interface HeartbeatHandlers {
  /** A beat was written. */
  beat(r: Beat): void;
  /** A beat failed (the driver's message), or the thread died. */
  failed(message: string): void;
  /** Beats were held: the main thread had not run for `ms`. */
  held(ms: number): void;
}

export class HeartbeatThread {
  private readonly clock = new BeatClock();
  private worker: Worker | undefined;
  private progress: NodeJS.Timeout | undefined;
  private restart: NodeJS.Timeout | undefined;
  private closed = false;
  private firstReport: (() => void) | undefined;
  private stopped: (() => void) | undefined;

  constructor(private readonly setup: Omit<BeatSetup, 'buffer'>, private readonly on: HeartbeatHandlers) {}

  /** When the last successful beat was started, and the last one that ended a gap (ms; 0: none yet). */
  beats(): { lastBeat: number; gapEnd: number } {
    // lastBeat first: a gap written after it is seen with it (the worker writes gapEnd first).
    const lastBeat = this.clock.lastBeat;
    return { lastBeat, gapEnd: this.clock.gapEnd };
  }

  /** Starts the thread; resolves at its first report (a beat, a failure), or when it could not start. */
  start(): Promise<void> {
    this.stamp();
    this.progress = setInterval(() => this.stamp(), PROGRESS_MS);
    this.progress.unref();
    return new Promise<void>((res) => {
      this.firstReport = res;
      this.spawn();
    });
  }

  private stamp(): void {
    this.clock.progress = Date.now();
  }

  private reported(): void {
    const first = this.firstReport;
    this.firstReport = undefined;
    first?.();
  }

  private spawn(): void {
    const w = startWorker('heartbeat-worker', import.meta.url);
    w.unref();
    this.worker = w;
    w.on('message', (m: BeatReport) => {
      if ('ready' in m) {
        w.postMessage({ ...this.setup, buffer: this.clock.buffer } satisfies BeatSetup);
        return;
      }
      if ('stopped' in m) {
        this.stopped?.();
        return;
      }
      if (this.closed) return;
      if ('beat' in m) this.on.beat(m.beat);
      else if ('error' in m) this.on.failed(m.error);
      else this.on.held(m.held);
      this.reported();
    });
    w.on('error', (e) => this.died(w, `the heartbeat thread failed: ${e.message}`));
    w.on('exit', (code) => this.died(w, `the heartbeat thread exited with code ${code}`));
  }

  /** The thread ended on its own: reported, and started again after a heartbeat (meanwhile no beat is written). */
  private died(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.stopped?.();
    if (this.closed) return;
    this.on.failed(why);
    this.reported();
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (!this.closed) this.spawn();
    }, this.setup.heartbeatMs);
    this.restart.unref();
  }

  /** Stops beating: the worker ends its connection (a beat in progress finishes first), then the thread is ended. */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.progress);
    clearTimeout(this.restart);
    const w = this.worker;
    if (!w) return;
    await new Promise<void>((res) => {
      const t = setTimeout(res, STOP_WAIT_MS);
      this.stopped = () => { clearTimeout(t); res(); };
      w.postMessage({ stop: true });
    });
    this.worker = undefined;
    await w.terminate();
  }
}
