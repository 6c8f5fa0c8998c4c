import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';
import { constants } from 'node:zlib';

/**
 * Brotli as the server runs it, tuned for the API's JSON (the UI's files are compressed at
 * build, at the highest quality, and sent as they are). Measured on the overview's answer for
 * 200 targets × 10 hours (522 KB of JSON; BENCHMARKS.md, "Overview API"): quality 4
 * (@fastify/compress's default) 96.1 KB in ~6 ms of CPU, quality 3 98.3 KB in ~4 ms, quality
 * 5 88.3 KB in ~14 ms; the window (16–22 bits) and the text mode change neither size nor time
 * there, and a 256 KiB window (18) keeps each compression's memory small.
 */
export const BROTLI_PARAMS = { [constants.BROTLI_PARAM_QUALITY]: 3, [constants.BROTLI_PARAM_LGWIN]: 18 };

/** The compression settings, as benches print them. */
export const COMPRESSION_SETTINGS = 'brotli quality 3, window 18 bits (src/server/api/compression.ts); gzip level 6 (zlib default)';

/**
 * Compresses every response worth it (JSON of the API, the UI's JS, CSS and HTML) with brotli
 * or gzip, as the browser asks. Register it on the root instance before any route and before
 * the static files: it attaches itself to routes as they are added. Request bodies are left
 * as sent: the agent API signs the bytes on the wire and unpacks its own gzip bodies.
 */
export async function registerCompression(app: FastifyInstance): Promise<void> {
  await app.register(compress, {
    global: true, globalDecompression: false, encodings: ['br', 'gzip'], threshold: 1024,
    brotliOptions: { params: BROTLI_PARAMS },
  });
}
