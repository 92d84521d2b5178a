import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { composeApp, type App, type AppConfig } from '../../../src/main/compose';
import { startLoopbackBridge, type LoopbackBridge } from '../../../src/main/ipc/loopbackBridge';

export const projectRoot = resolve(import.meta.dirname, '../../..');
export const artifactsDir = join(projectRoot, 'tests/e2e/artifacts');

export interface RunningApp {
  app: App;
  bridge: LoopbackBridge;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts the real main-process services in this Node process with a fresh data directory, and serves the built
 * renderer over the loopback bridge. Requires `npm run build` (npm test runs it before the e2e project).
 */
export async function startApp(overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const rendererDir = join(projectRoot, 'out/renderer');
  const clientScript = join(projectRoot, 'out/bridge-client/bridge-client.js');
  if (!existsSync(join(rendererDir, 'index.html')) || !existsSync(clientScript)) {
    throw new Error('the built renderer is missing: run "npm run build" before the e2e tests');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'medrwr-e2e-'));
  const app = await composeApp({
    dataDir,
    resourcesDir: join(projectRoot, 'resources'),
    version: 'e2e',
    dialogs: { open: async () => [] },
    ...overrides,
  });
  const bridge = await startLoopbackBridge({ handlers: app.handlers, bus: app.bus, rendererDir, clientScript });
  return {
    app,
    bridge,
    dataDir,
    async stop() {
      await bridge.close();
      await app.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
