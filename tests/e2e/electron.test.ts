import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/startApp';

/** The Electron binary cannot be downloaded on these machines (ELECTRON_SKIP_BINARY_DOWNLOAD=1). */
function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (!binary) {
  console.warn(
    'Electron e2e smoke test skipped: the Electron binary is absent (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1). ' +
      'The renderer is tested in Debian Chromium over the loopback bridge instead.',
  );
}

describe.skipIf(!binary)('Electron app smoke test', () => {
  it('opens a sandboxed window whose renderer reaches main through the preload', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'medrwr-electron-'));
    const app = await electron.launch({
      executablePath: binary!,
      args: [join(projectRoot, 'out/main/index.js')],
      env: { ...process.env, MEDRWR_DATA_DIR: dataDir },
    });
    try {
      const page = await app.firstWindow();
      await expect.poll(() => page.getByTestId('network-status').textContent()).toContain('blocked');
      expect(await page.evaluate(() => window.platform.transport)).toBe('electron-ipc');
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
