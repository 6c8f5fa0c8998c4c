import { defineConfig } from 'vite';

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
  server: { proxy: { '/api': process.env.SMOKEMESH_URL ?? 'http://127.0.0.1:8888' } },
});
