/**
 * Runs the regexp checks of probes (HTTP body and headers, DNS answer RRs) on a worker
 * thread with a deadline. RE2 is linear in the input, but its worst case is input length ×
 * pattern size, and the input comes from the monitored target: a check that runs long must
 * not stall the server's event loop (its API, the agent API, the other probes). A check past
 * its deadline ends the worker (a fresh one serves the next check) and fails its attempt
 * with a reason saying so.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-entry.ts';
import type { Checks } from './net-regexp-worker-main.ts';

type Name = keyof Checks;
type Input<K extends Name> = Parameters<Checks[K]>[0];
type Output<K extends Name> = ReturnType<Checks[K]>;

interface Job {
  name: Name;
  input: unknown;
  deadlineMs: number;
  signal?: AbortSignal;
  resolve(v: unknown): void;
  reject(e: Error): void;
  onAbort?(): void;
}

type Reply = { ready: true } | { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Thrown (as the attempt's reason) when a check outlives its deadline. */
export class CheckDeadlineError extends Error {}

let worker: Worker | undefined;
let ready = false;
let nextId = 1;
const queue: Job[] = [];
let running: { id: number; job: Job; timer: NodeJS.Timeout } | undefined;

function start(): Worker {
  const w = startWorker('net-regexp-worker', import.meta.url);
  w.unref();
  w.on('message', (m: Reply) => {
    if (w !== worker) return;
    if ('ready' in m) { ready = true; pump(); return; }
    if (!running || running.id !== m.id) return;
    const { job, timer } = running;
    clearTimeout(timer);
    running = undefined;
    job.signal?.removeEventListener('abort', job.onAbort!);
    if (m.ok) job.resolve(m.value);
    else job.reject(new Error(m.error));
    pump();
  });
  w.on('error', (e) => crashed(w, `regexp worker failed: ${e.message}`));
  w.on('exit', (code) => crashed(w, `regexp worker exited with code ${code}`));
  return w;
}

/**
 * The worker died on its own: fail the job it held and start afresh for the rest; one that
 * died before it was ready would die again, so its waiting jobs fail instead.
 */
function crashed(w: Worker, reason: string): void {
  if (w !== worker) return;
  const started = ready;
  worker = undefined;
  ready = false;
  const failed = running ? [running.job] : [];
  if (running) clearTimeout(running.timer);
  running = undefined;
  if (!started) failed.push(...queue.splice(0));
  for (const job of failed) {
    job.signal?.removeEventListener('abort', job.onAbort!);
    job.reject(new Error(reason));
  }
  pump();
}

/** Ends the worker holding `job`; the next job gets a fresh worker. */
function kill(job: Job, error: Error): void {
  if (!running || running.job !== job) return;
  clearTimeout(running.timer);
  running = undefined;
  job.signal?.removeEventListener('abort', job.onAbort!);
  const w = worker;
  worker = undefined;
  ready = false;
  void w?.terminate();
  job.reject(error);
  pump();
}

function pump(): void {
  if (!running && queue.length > 0 && !worker) worker = start();
  // A pending check keeps the process alive; an idle worker does not.
  if (running || queue.length > 0) worker?.ref();
  else worker?.unref();
  if (running || queue.length === 0 || !ready) return;
  worker!.ref();
  const job = queue.shift()!;
  const id = nextId++;
  const timer = setTimeout(() => kill(job, new CheckDeadlineError(`regexp checks did not finish within ${job.deadlineMs} ms (stopped)`)), job.deadlineMs);
  running = { id, job, timer };
  worker!.postMessage({ id, name: job.name, input: job.input });
}

/**
 * Runs check `name` on `input` off the event loop. Resolves with the check's answer;
 * rejects with CheckDeadlineError when it runs longer than `deadlineMs` (counted from when
 * the worker starts it), or with the signal's reason when `signal` aborts first. Checks run
 * one at a time in arrival order.
 */
export function runCheck<K extends Name>(name: K, input: Input<K>, opts: { deadlineMs: number; signal?: AbortSignal }): Promise<Output<K>> {
  return new Promise<Output<K>>((resolve, reject) => {
    const job: Job = { name, input, deadlineMs: opts.deadlineMs, resolve: resolve as (v: unknown) => void, reject };
    if (opts.signal) {
      const signal = opts.signal;
      if (signal.aborted) return reject(abortError(signal));
      job.signal = signal;
      job.onAbort = () => {
        const i = queue.indexOf(job);
        if (i >= 0) { queue.splice(i, 1); reject(abortError(signal)); } else kill(job, abortError(signal));
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    queue.push(job);
    pump();
  });
}

/** Starts the worker ahead of the first check, so its start-up does not count against an attempt. */
export function warmRegexpWorker(): void {
  if (!worker) worker = start();
}

function abortError(signal: AbortSignal): Error {
  const r = signal.reason as unknown;
  return r instanceof Error ? r : new Error('aborted');
}
