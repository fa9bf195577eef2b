import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const root = fileURLToPath(new URL('.', import.meta.url));
const at = (p: string) => resolve(root, p);

export default defineConfig({
  main: {
    build: {
      outDir: at('out/main'),
      // Dependencies stay in node_modules (the default); better-sqlite3 is named as well because
      // its native binding must be loaded from disk, never bundled.
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: at('electron/main/index.ts'),
          // The library service's utility process (out/main/service.js): the API and the engine.
          service: at('electron/service/index.ts'),
          // The utility-process worker entry (out/main/worker.js).
          worker: at('electron/main/worker.ts'),
          // The workflow registry the engine and its workers import by path (out/main/workflows.js).
          workflows: at('pipeline/workflows.ts'),
          // The audio decoder's own process (out/main/decoder.js), run with ELECTRON_RUN_AS_NODE.
          decoder: at('pipeline/ingest/decoder-main.ts'),
        },
        external: ['better-sqlite3'],
      },
    },
  },
  preload: {
    build: {
      outDir: at('out/preload'),
      rolldownOptions: {
        input: { index: at('electron/preload/index.ts') },
        // A sandboxed preload cannot be an ES module: CommonJS, named .cjs since the package is ESM.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('renderer'),
    plugins: [vue()],
    build: {
      outDir: at('out/renderer'),
      // Minified: about half the bytes to read and compile before the first view is drawn
      // (electron-vite leaves renderer bundles as written by default).
      minify: true,
      rolldownOptions: { input: at('renderer/index.html') },
    },
  },
});
