import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** Builds the loopback bridge client as one classic script (it must run before the renderer's module script). */
export default defineConfig({
  build: {
    outDir: 'out/bridge-client',
    emptyOutDir: true,
    minify: false,
    lib: {
      entry: resolve('src/bridge-client/index.ts'),
      formats: ['iife'],
      name: 'MedRwrBridgeClient',
      fileName: () => 'bridge-client.js',
    },
  },
});
