import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from './chromium';
import { artifactsDir, projectRoot, startApp, type RunningApp } from './startApp';

/** ../shared beside the project (real public data), or null when this checkout has none. */
export const sharedDir: string | null = existsSync(resolve(projectRoot, '../shared')) ? resolve(projectRoot, '../shared') : null;

export interface UiSession {
  running: RunningApp;
  browser: Browser;
  page: Page;
  /** Uncaught page errors and console errors seen so far (a test can assert there were none). */
  pageErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the real services with the built renderer and opens it in Debian Chromium at a workstation-sized viewport.
 * Screenshots go to tests/e2e/artifacts/ (git-ignored), to be looked at.
 */
export async function openUi(options: { viewport?: { width: number; height: number }; startApp?: Parameters<typeof startApp>[0] } = {}): Promise<UiSession> {
  mkdirSync(artifactsDir, { recursive: true });
  const running = await startApp(options.startApp);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1600, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(running.bridge.pageUrl);
  await page.getByTestId('network-status').filter({ hasText: 'blocked' }).waitFor();
  return {
    running,
    browser,
    page,
    pageErrors,
    async screenshot(name) {
      const path = join(artifactsDir, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await browser.close();
      await running.stop();
    },
  };
}

/** Imports files or folders through the study list's path field and waits for the summary. */
export async function importByPath(page: Page, ...paths: string[]): Promise<void> {
  if (!(await page.getByTestId('import-path').isVisible())) await page.getByTestId('import-toggle').click();
  await page.getByTestId('import-path').fill(paths.join('\n'));
  await page.getByTestId('import-start').click();
  await page.getByTestId('import-summary').waitFor({ timeout: 120_000 });
}

/**
 * Searches the knowledge base from the reasoning panel's search tab until hit cards show: the bundled MedQuAD base may
 * still be building on a fresh data directory, so the search is repeated until it answers.
 */
export async function searchKnowledgeUntilHits(page: Page, query: string): Promise<void> {
  await page.getByTestId('tab-knowledge-search').click();
  await page.getByTestId('knowledge-query').fill(query);
  await page.getByTestId('knowledge-query').press('Enter');
  await expect
    .poll(
      async () => {
        if ((await page.getByTestId('hit-card').count()) === 0) await page.getByTestId('knowledge-query').press('Enter');
        return page.getByTestId('hit-card').count();
      },
      { timeout: 120_000, interval: 2000 },
    )
    .toBeGreaterThan(0);
}

/** The viewer's state as it exposes it on the viewport element. */
export async function viewportState(page: Page): Promise<{ slice: number; window: string; sop: string }> {
  const viewport = page.getByTestId('viewport');
  return {
    slice: Number(await viewport.getAttribute('data-slice')),
    window: (await viewport.getAttribute('data-window')) ?? '',
    sop: (await viewport.getAttribute('data-sop')) ?? '',
  };
}

/** Mean gray level of the canvas centre (a 64×64 patch), to check that pixels really changed. */
export async function canvasCentreMean(page: Page): Promise<number> {
  return page.getByTestId('viewport-canvas').evaluate((canvas) => {
    const c = canvas as HTMLCanvasElement;
    const context = c.getContext('2d')!;
    const data = context.getImageData(Math.floor(c.width / 2) - 32, Math.floor(c.height / 2) - 32, 64, 64).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i]!;
    return sum / (data.length / 4);
  });
}
