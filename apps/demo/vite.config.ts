import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * The build's size report, by what the browser downloads: the page's code (what the first paint
 * waits for), the training worker (the whole toolkit, loaded after the page is up), the
 * WebAssembly kernels, and the benchmark page's code — raw and gzipped.
 */
function bundleReport(): Plugin {
  return {
    name: 'minibatch-bundle-report',
    apply: 'build',
    generateBundle(_options, bundle) {
      const groups = new Map<string, { raw: number; gzip: number; files: number }>();
      for (const item of Object.values(bundle)) {
        const bytes = item.type === 'chunk' ? Buffer.from(item.code) : Buffer.from(item.source as string | Uint8Array);
        const name = item.fileName;
        const group = name.endsWith('.wasm') ? (name.includes('tfjs') ? 'TF.js WebAssembly (benchmark page only)' : 'minibatch WebAssembly kernels (5 builds; one is loaded)')
          : name.endsWith('.css') ? 'page styles'
          : item.type === 'chunk' && item.isEntry && name.includes('bench') ? 'benchmark page code'
          : item.type === 'chunk' && item.isEntry ? 'page code (first paint)'
          : item.type === 'chunk' ? 'training worker code (the toolkit)'
          : name.endsWith('.js') ? 'training worker code (the toolkit)' : 'other';
        const g = groups.get(group) ?? { raw: 0, gzip: 0, files: 0 };
        g.raw += bytes.length;
        g.gzip += gzipSync(bytes).length;
        g.files++;
        groups.set(group, g);
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
      console.log('\nbundle size (raw / gzip):');
      for (const [group, g] of groups) console.log(`  ${group.padEnd(58)} ${kb(g.raw).padStart(10)} / ${kb(g.gzip).padStart(9)}`);
    },
  };
}

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
  plugins: [bundleReport()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  worker: { format: 'es' },
  server: { headers },
  preview: { headers },
  build: {
    target: 'es2022',
    // The bundle's sizes are part of the build's report (the quality bar asks for them).
    reportCompressedSize: true,
    // The worker holds the whole toolkit (zod, protobufjs for ONNX, every package): it loads after the page is up.
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: { main: 'index.html', bench: 'bench.html' },
      // zod's sources carry comments Rollup cannot place and drops, harmlessly; they would bury the report.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
