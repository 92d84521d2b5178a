/**
 * Plain-Node entry that runs the same services as the Electron app and serves them over the loopback bridge, for the
 * renderer in Debian Chromium (tests, and `npm start` where the Electron binary is absent).
 * Prints one JSON line `{"pageUrl": …}` on stdout once listening.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { composeApp } from './compose';
import { startLoopbackBridge } from './ipc/loopbackBridge';

const root = resolve(import.meta.dirname, '../..');
const dataDir = process.env['MEDRWR_DATA_DIR'] ?? join(homedir(), '.medrwr-reading-station');
mkdirSync(dataDir, { recursive: true });

const app = await composeApp({
  dataDir,
  resourcesDir: join(root, 'resources'),
  version: process.env['npm_package_version'] ?? '0.0.0',
  dialogs: { open: async () => [] },
});
const bridge = await startLoopbackBridge({
  handlers: app.handlers,
  bus: app.bus,
  rendererDir: join(root, 'out/renderer'),
  clientScript: join(root, 'out/bridge-client/bridge-client.js'),
  port: process.env['MEDRWR_BRIDGE_PORT'] ? Number(process.env['MEDRWR_BRIDGE_PORT']) : 0,
});
process.stdout.write(`${JSON.stringify({ pageUrl: bridge.pageUrl, dataDir })}\n`);

const shutdown = async (): Promise<void> => {
  await bridge.close();
  await app.dispose();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
