import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventChannels, invokeChannels } from '../../src/preload/channels';
import { createApi, type ApiTransport } from '../../src/preload/createApi';
import { launchChromium } from './support/chromium';
import { artifactsDir, startApp, type RunningApp } from './support/startApp';

describe('renderer in Debian Chromium over the loopback bridge', () => {
  let running: RunningApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    running = await startApp();
    browser = await launchChromium();
    page = await browser.newPage();
    const failedRequests: string[] = [];
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    await page.goto(running.bridge.pageUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  it('renders the app and completes an invoke round-trip through window.api', async () => {
    await expect.poll(async () => (await page.getByTestId('network-status').textContent())?.trim()).toBe('network: blocked');
    const info = await page.evaluate(() => window.api.app.info());
    expect(info.dataDir).toBe(running.dataDir);
    await page.screenshot({ path: join(artifactsDir, 'foundation-shell.png') });
  });

  it('rebuilds main-process errors with their stable code', async () => {
    const error = await page.evaluate(() =>
      window.api.settings.update({ retrieval: { k: 0 } }).then(
        () => null,
        (e: Error & { code: string }) => ({ code: e.code, message: e.message }),
      ),
    );
    expect(error?.code).toBe('INVALID_INPUT');
    expect(error?.message).toContain('settings.retrieval.k');
    const settings = await page.evaluate(() => window.api.settings.update({ retrieval: { k: 5 } }));
    expect(settings.retrieval.k).toBe(5);
    expect(running.app.settings.get().retrieval.k).toBe(5);
  });

  it('exposes the same named functions as the Electron preload', async () => {
    const shape = await page.evaluate(() =>
      Object.fromEntries(Object.entries(window.api).map(([ns, fns]) => [ns, Object.keys(fns).sort()])),
    );
    // The Electron preload builds window.api from these same lists; the bridge client must expose exactly that shape.
    const noop: ApiTransport = { invoke: () => Promise.reject(new Error('unused')), subscribe: () => () => undefined };
    const preloadApi = createApi(noop, invokeChannels, eventChannels) as unknown as Record<string, object>;
    const preloadShape = Object.fromEntries(
      Object.entries(preloadApi).map(([ns, fns]) => [ns, Object.keys(fns).sort()]),
    );
    expect(shape).toEqual(preloadShape);
    expect(shape['reasoning']).toEqual(['ask', 'onEvent', 'readiness']);
    expect(shape['runs']).toEqual(['cancel', 'onFinished']);
    expect(await page.evaluate(() => window.platform.transport)).toBe('loopback-bridge');
  });
});
