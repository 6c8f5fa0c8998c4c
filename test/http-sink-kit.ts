import { createServer, type RequestListener, type Server } from 'node:http';

/** A plain HTTP server of a test on 127.0.0.1. */
export interface HttpSink {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  close(): Promise<void>;
}

/** Starts an HTTP server on a free loopback port that answers every request with `handler`. */
export async function httpSink(handler: RequestListener): Promise<HttpSink> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server, port, base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      // Keep-alive connections of a client that is gone would hold close() open.
      server.closeAllConnections();
    }),
  };
}
