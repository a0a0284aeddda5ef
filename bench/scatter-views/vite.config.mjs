// Builds the scatter bench page. EMBEDDING_ATLAS: the folder of an unpacked `embedding-atlas`
// package (it is not a dependency of the app); without it, only our canvas is measured.
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const atlas = process.env.EMBEDDING_ATLAS;

export default defineConfig({
  root: here('.'),
  logLevel: 'warn',
  plugins: [svelte()],
  resolve: {
    alias: {
      // The plain (non-Mosaic) EmbeddingView never calls Mosaic, but its chunk imports it
      // statically (and Mosaic pulls in DuckDB-wasm): stand-ins keep those out of the page.
      '@uwdata/mosaic-core': here('./mosaic-stub.js'),
      '@uwdata/mosaic-sql': here('./mosaic-stub.js'),
      'embedding-atlas': atlas ? `${atlas}/dist/component.js` : here('./mosaic-stub.js'),
    },
  },
  build: { outDir: here('../../test-results/scatter-bench'), emptyOutDir: true, target: 'esnext', chunkSizeWarningLimit: 20000 },
});
