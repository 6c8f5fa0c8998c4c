import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';

/**
 * Compresses every response worth it (JSON of the API, the UI's JS, CSS and HTML) with brotli
 * or gzip, as the browser asks. Register it on the root instance before any route and before
 * the static files: it attaches itself to routes as they are added. Request bodies are left
 * as sent: the agent API signs the bytes on the wire and unpacks its own gzip bodies.
 */
export async function registerCompression(app: FastifyInstance): Promise<void> {
  await app.register(compress, { global: true, globalDecompression: false, encodings: ['br', 'gzip'], threshold: 1024 });
}

/** The compression settings, as benches print them. */
export const BROTLI_SETTINGS = 'brotli quality 4 (@fastify/compress default), gzip level 6 (zlib default)';
