import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

/** Native and WASM-carrying packages stay external: they are loaded by Node at run time, never bundled. */
const nodeExternals = [
  'better-sqlite3',
  'sqlite-vec',
  '@fugood/llama.node',
  'node-llama-cpp',
  'dcmjs',
  'ws',
  'pdfjs-dist',
  'pngjs',
  '@cornerstonejs/codec-openjpeg',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-libjpeg-turbo-8bit',
  'jpeg-lossless-decoder-js',
];

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      rollupOptions: {
        external: nodeExternals,
        input: {
          index: resolve('src/main/index.ts'),
          bridgeMain: resolve('src/main/bridgeMain.ts'),
          // The model engine's process entry (utilityProcess in the app, fork under Node).
          engineChild: resolve('src/main/engine/process/engineChild.ts'),
          // The studies service's pixel worker threads (worker_threads; PixelPool finds it next to the main bundle).
          pixelWorker: resolve('src/main/studies/pixels/pixelWorker.ts'),
          // The knowledge service's parse worker thread (WorkerSourcePreparer finds it next to the main bundle).
          sourcePreparerWorker: resolve('src/main/knowledge/ingest/sourcePreparerWorker.ts'),
          // The WAL checkpoint after ingestion, on its own connection (BackgroundWalCheckpointer, next to the main bundle).
          walCheckpointWorker: resolve('src/main/store/walCheckpointWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      outDir: 'out/renderer',
      // electron-vite leaves bundles unminified; the renderer ships minified (about a third of the size).
      minify: true,
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
