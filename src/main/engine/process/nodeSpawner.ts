import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildMessage } from './protocol';
import type { EngineProcess, EngineSpawner } from './EngineSupervisor';

/**
 * The engine entry next to this module: the built `engineChild.js` (electron-vite output) or, from the sources
 * (vitest, tsx CLI), `engineChild.ts`.
 */
export function defaultEngineEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'engineChild.js'),
    join(here, '..', 'engineChild.js'),
    join(here, 'engineChild.ts'),
    join(here, 'process', 'engineChild.ts'),
    join(here, 'engine', 'process', 'engineChild.ts'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`engine entry: expected one of ${candidates.join(', ')}, found none`);
  return found;
}

/** tsx's loader as an absolute URL, so the engine's sources run whatever the working directory is. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Starts the engine with child_process.fork (plain Node: tests, CLI, loopback bridge). */
export function nodeEngineSpawner(entry: string = defaultEngineEntry(), env: NodeJS.ProcessEnv = process.env): EngineSpawner {
  return (): EngineProcess => {
    const child = fork(entry, [], {
      // TypeScript sources run through tsx, as in the tests and `npm run ask`.
      execArgv: entry.endsWith('.ts') ? ['--import', tsxLoader()] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env,
    });
    const outputListeners: ((stream: 'stdout' | 'stderr', line: string) => void)[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => outputListeners.forEach((l) => l(stream, line)));
    }
    return {
      pid: child.pid,
      send: (message) => {
        if (child.connected) child.send(message);
        else throw new Error('the engine process is not connected');
      },
      onMessage: (listener) => child.on('message', (m) => listener(m as ChildMessage)),
      onOutput: (listener) => outputListeners.push(listener),
      onExit: (listener) => child.once('exit', (code, signal) => listener({ code, signal })),
      kill: () => child.kill('SIGTERM'),
    };
  };
}
