#!/usr/bin/env node
/**
 * `npm start`: builds the app and runs it.
 * - With the Electron binary installed: the Electron app (electron-vite preview).
 * - Without it (machines where it cannot be downloaded): the same main-process services under Node, serving the
 *   renderer over the loopback bridge, opened in Chromium as an app window when a display is available.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const binary = electronBinary();
if (binary) {
  run('npx', ['electron-vite', 'preview']);
  process.exit(0);
}

console.log('Electron binary not found: running the app services under Node with the renderer over the loopback bridge.');
run('npm', ['run', '--silent', 'build']);

const server = spawn(process.execPath, [join(root, 'out/main/bridgeMain.js')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const lines = createInterface({ input: server.stdout });
lines.once('line', (line) => {
  const { pageUrl, dataDir } = JSON.parse(line);
  console.log(`Data directory: ${dataDir}`);
  console.log(`Open the reading station at: ${pageUrl}`);
  const browser = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
  if (browser && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
    const profile = join(root, '.cache/chromium-profile');
    spawn(
      browser,
      [
        `--app=${pageUrl}`,
        `--user-data-dir=${profile}`,
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--window-size=1600,1000',
      ],
      { stdio: 'ignore', detached: true },
    ).unref();
  } else {
    console.log('No display found: open the address above in a browser on this machine. Ctrl-C stops the app.');
  }
  lines.on('line', (l) => console.log(l));
});
server.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
