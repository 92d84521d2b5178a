import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread's entry file: the electron-vite build's `<name>.js` next to the calling module (or one folder up,
 * when the caller was bundled into `chunks/`), else the TypeScript source (vitest, the tsx CLI and bench).
 */
export function findWorkerEntry(callerUrl: string, name: string, sources: readonly string[]): string {
  const here = dirname(fileURLToPath(callerUrl));
  const candidates = [join(here, `${name}.js`), join(here, '..', `${name}.js`), ...sources.map((s) => join(here, s))];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${name} entry: expected one of ${candidates.join(', ')}, found none`);
  return found;
}

/** Starts a worker thread on a built `.js` entry, or on a `.ts` source with tsx's loader registered inside it. */
export function startWorker(entry: string): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry);
  // The ESM build of tsx's API, by path: require.resolve would name its CommonJS build, which cannot register ESM hooks.
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esmApi = join(tsxRoot, 'dist/esm/api/index.mjs');
  const api = existsSync(esmApi) ? pathToFileURL(esmApi).href : 'tsx/esm/api';
  const source = pathToFileURL(entry).href;
  return new Worker(
    `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`,
    { eval: true },
  );
}
