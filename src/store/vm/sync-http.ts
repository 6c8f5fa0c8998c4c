import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** The answer to one request: status and body text (status 0 when it could not be sent). */
export interface HttpAnswer {
  status: number;
  body: string;
  error?: string;
}

/**
 * The worker: performs one fetch per message and posts the answer on the reply port, then
 * wakes the waiting caller through the shared flag. Plain JS so it needs no TypeScript loader.
 */
const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ port, flag, url, method, body, headers, timeoutMs }) => {
  let answer;
  try {
    const res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(timeoutMs) });
    answer = { status: res.status, body: await res.text() };
  } catch (e) {
    answer = { status: 0, body: '', error: String(e && e.cause ? e.cause : e) };
  }
  port.postMessage(answer);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/**
 * Synchronous HTTP for the store's synchronous read contract: the request runs on a worker
 * thread while the caller waits (Atomics.wait), at most `timeoutMs` — the same model as a
 * SQLite read, which also holds the event loop for its duration.
 */
export class SyncHttp {
  private worker: Worker | undefined;

  /** Sends one request and waits for its answer (status 0 and `error` on a network failure or timeout). */
  request(method: string, url: string, timeoutMs: number, body?: string, headers?: Record<string, string>): HttpAnswer {
    if (!this.worker) {
      this.worker = new Worker(WORKER, { eval: true });
      this.worker.unref();
    }
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ port: port2, flag, url, method, body, headers, timeoutMs }, [port2]);
    // The worker's own abort fires at timeoutMs; the extra second covers its start.
    const woke = Atomics.wait(flag, 0, 0, timeoutMs + 1000);
    const msg = receiveMessageOnPort(port1);
    port1.close();
    if (woke === 'timed-out' || !msg) return { status: 0, body: '', error: `no answer within ${timeoutMs} ms` };
    return msg.message as HttpAnswer;
  }

  /** Stops the worker thread. */
  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
