/**
 * Electron's spawner for the engine process: a utilityProcess (a Node child Electron manages, with its own crash
 * handling and no renderer privileges). The only engine file that imports electron; services stay electron-free.
 */
import { utilityProcess } from 'electron';
import { createInterface } from 'node:readline';
import type { EngineProcess, EngineSpawner } from './process/EngineSupervisor';
import type { ChildMessage, ParentMessage } from './process/protocol';

export function utilityProcessSpawner(entry: string): EngineSpawner {
  return (): EngineProcess => {
    const child = utilityProcess.fork(entry, [], { stdio: 'pipe', serviceName: 'Med-RwR model engine' });
    const outputListeners: ((stream: 'stdout' | 'stderr', line: string) => void)[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (source) createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => outputListeners.forEach((l) => l(stream, line)));
    }
    // Messages posted before the process is up wait for it.
    let spawned = false;
    const queued: ParentMessage[] = [];
    child.once('spawn', () => {
      spawned = true;
      for (const message of queued.splice(0)) child.postMessage(message);
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => (spawned ? child.postMessage(message) : queued.push(message)),
      onMessage: (listener) => child.on('message', (message: ChildMessage) => listener(message)),
      onOutput: (listener) => outputListeners.push(listener),
      // utilityProcess reports the wait status code only; the supervisor names a signal from codes above 128.
      onExit: (listener) => child.once('exit', (code) => listener({ code, signal: null })),
      kill: () => child.kill(),
    };
  };
}
