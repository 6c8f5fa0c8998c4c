/**
 * Test kit for the channel tests: a real HTTP server on 127.0.0.1 that records every request
 * and answers as the test says, plus a sample alert event.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertEvent } from './notifier.ts';

export interface Received {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes as received (compressed bodies, signatures). */
  raw: Buffer;
}

export interface Answer {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the client must time out or cancel). */
  hang?: boolean;
}

export interface Receiver {
  /** http://127.0.0.1:<port> */
  base: string;
  requests: Received[];
  /** What the next requests get; default 200 with an empty body. */
  answer: (r: Received) => Answer;
  close(): Promise<void>;
}

/** Starts a receiver on an ephemeral loopback port. */
export async function startReceiver(answer: (r: Received) => Answer = () => ({})): Promise<Receiver> {
  const requests: Received[] = [];
  const hanging = new Set<() => void>();
  const rx: Receiver = { base: '', requests, answer, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), raw };
      requests.push(r);
      const a = rx.answer(r);
      if (a.hang) {
        const end = () => res.destroy();
        hanging.add(end);
        res.on('close', () => hanging.delete(end));
        return;
      }
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  rx.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rx.close = async () => {
    for (const end of hanging) end();
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  };
  return rx;
}

/** A typical edge-triggered loss alert on a target with labels and a UI link. */
export function sampleEvent(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    version: 1,
    id: 'evt-0001',
    state: 'raised',
    alert: { name: 'someloss', type: 'loss', pattern: '>0%,*12*,>0%,*12*,>0%', comment: 'loss 3 times in a row', priority: 1, edgetrigger: true },
    target: {
      path: '/DX/Beijing/core-router',
      dotted: 'DX.Beijing.core-router',
      host: '127.0.0.1',
      title: 'Core <router> & DX',
      labels: { region: 'cn-north', isp: 'dx', 'link-type': 'direct connect' },
    },
    agent: 'agent-a',
    time: Date.UTC(2026, 10, 23, 1, 23, 10),
    loss: ['0%', '20%', '100%'],
    rtt: ['12ms', '15ms', 'U'],
    url: 'http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a',
    recipients: ['ops@example.invalid'],
    ...over,
  };
}
