import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One round as the store keys it. */
export const roundKey = (r: { target: string; agent: string; time: number }) => `${r.agent}|${r.target}|${r.time}`;

/**
 * An HTTP proxy between real agents and a real server that records what the server
 * acknowledged: every round of a rounds push answered 200 and not listed as refused. It is
 * the test's independent record of "what an agent was told is stored". When the server is
 * down it answers 502, as a load balancer would.
 */
export class AckProxy {
  /** Rounds the server acknowledged, by roundKey. */
  readonly acknowledged = new Set<string>();
  /** Statuses of rounds pushes, in order. */
  readonly pushStatuses: number[] = [];
  private server: Server;
  port = 0;

  constructor(private readonly upstreamPort: number) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const up = request({ host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
          const out: Buffer[] = [];
          ur.on('data', (c: Buffer) => out.push(c));
          ur.on('end', () => {
            const answer = Buffer.concat(out);
            if (req.method === 'POST' && req.url === '/api/v1/agent/rounds') this.record(body, req.headers, ur.statusCode ?? 0, answer, ur.headers);
            res.writeHead(ur.statusCode ?? 502, ur.headers);
            res.end(answer);
          });
          ur.on('error', () => res.destroy());
        });
        up.on('error', () => {
          if (req.method === 'POST' && req.url === '/api/v1/agent/rounds') this.pushStatuses.push(502);
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'HTTP_502', error: 'upstream down' }));
        });
        up.end(body);
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  private record(body: Buffer, reqHeaders: IncomingHttpHeaders, status: number, answer: Buffer, resHeaders: IncomingHttpHeaders): void {
    this.pushStatuses.push(status);
    if (status !== 200) return;
    const json = (buf: Buffer, enc: unknown) => JSON.parse((enc === 'gzip' ? gunzipSync(buf) : buf).toString('utf8')) as unknown;
    const sent = json(body, reqHeaders['content-encoding']) as { rounds: { target: string; agent: string; time: number }[] };
    const reply = json(answer, resHeaders['content-encoding']) as { rejected: { index: number }[] };
    const refused = new Set(reply.rejected.map((r) => r.index));
    sent.rounds.forEach((r, i) => { if (!refused.has(i)) this.acknowledged.add(roundKey(r)); });
  }
}
