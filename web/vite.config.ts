import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `file.br` (brotli, best) and `file.gz` (gzip -9) beside every text file of the build
 * worth compressing: the server sends those as they are (@fastify/static's preCompressed),
 * smaller than compressing on the fly at a speed fit for every request, and at no CPU cost.
 */
function precompress(outDir: string): Plugin {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
  return {
    name: 'smokemesh-precompress',
    apply: 'build',
    closeBundle() {
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

// The UI is served by the smokemesh server at /; the dev server proxies /api to it.
export default defineConfig({
  root: __dirname,
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    reportCompressedSize: false,
    chunkSizeWarningLimit: 300,
  },
  plugins: [precompress(join(__dirname, 'dist'))],
  server: { proxy: { '/api': process.env.SMOKEMESH_URL ?? 'http://127.0.0.1:8888' } },
});
