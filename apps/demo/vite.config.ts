import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) lets the core share WebAssembly memory with its worker
 * threads; DEMO_ISOLATION=off serves the site without it (one thread), as a plain static host
 * would.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const headers = process.env.DEMO_ISOLATION === 'off' ? {} : ISOLATION_HEADERS;

export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  worker: { format: 'es' },
  server: { headers },
  preview: { headers },
  build: {
    target: 'es2022',
    // The bundle's sizes are part of the build's report (the quality bar asks for them).
    reportCompressedSize: true,
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
});
