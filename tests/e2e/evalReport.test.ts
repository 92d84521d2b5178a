import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type App } from '../../src/main/compose';
import { launchChromium } from './support/chromium';
import { artifactsDir, projectRoot } from './support/startApp';

const vqaRad = resolve(projectRoot, '../shared/data/vqa-rad/testset.json');

describe.skipIf(!existsSync(vqaRad))(
  'evaluation report in Debian Chromium (needs ../shared/data/vqa-rad; skipped when absent)',
  () => {
    let app: App;
    let dataDir: string;
    let browser: Browser;
    let reportPath: string;

    beforeAll(async () => {
      mkdirSync(artifactsDir, { recursive: true });
      dataDir = mkdtempSync(join(tmpdir(), 'medrwr-eval-report-'));
      app = await composeApp({
        dataDir,
        resourcesDir: join(projectRoot, 'resources'),
        version: 'e2e',
        dialogs: { open: async () => [] },
      });
      const { runId, evalId } = await app.evals.start({
        dataset: { format: 'vqa-rad', path: vqaRad },
        modes: ['direct', 'rwr', 'rwr+cdir'],
        sample: { size: 40, seed: 3 },
        dryRun: true,
        label: 'report rendering check',
      });
      await app.runs.waitFor(runId);
      reportPath = join(dataDir, 'report.html');
      writeFileSync(reportPath, app.evals.report(evalId).html);
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await app?.dispose();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('renders every table and inline plot without a network request, and saves a screenshot', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      const url = pathToFileURL(reportPath).href;
      await page.goto(url);

      expect(await page.locator('h1').textContent()).toBe('Evaluation report — VQA-RAD testset.json');
      await expect.poll(() => page.locator('.banner').textContent()).toContain('DRY RUN');
      // Accuracy bars, three reliability diagrams and the CDIR flips: each SVG laid out with a real size and bars.
      const svgs = page.locator('svg');
      expect(await svgs.count()).toBe(5);
      for (let i = 0; i < 5; i++) {
        const box = await svgs.nth(i).boundingBox();
        expect(box!.width).toBeGreaterThan(150);
        expect(box!.height).toBeGreaterThan(100);
        expect(await svgs.nth(i).locator('.bar').count()).toBeGreaterThan(0);
      }
      expect(await page.locator('section#summary tbody tr').count()).toBe(3);
      expect(await page.locator('table.items tbody tr').count()).toBe(40);
      expect(await page.getByText('sha256').count()).toBeGreaterThan(0);
      expect(requests).toEqual([url]);
      expect(errors).toEqual([]);

      await page.screenshot({ path: join(artifactsDir, 'eval-report.png'), fullPage: false });
      await page
        .locator('section', { hasText: 'Confidence calibration' })
        .screenshot({ path: join(artifactsDir, 'eval-report-calibration.png') });
      await page
        .locator('section', { hasText: 'Confidence-driven image re-retrieval' })
        .screenshot({ path: join(artifactsDir, 'eval-report-cdir.png') });
      await page.close();
    });
  },
);
