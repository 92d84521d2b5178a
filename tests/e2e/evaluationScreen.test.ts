/**
 * The evaluation screen over the real harness: start a VQA-RAD evaluation in all three modes (a dry run: scripted
 * answers, no model), follow its progress, read the per-mode metrics, open the HTML report and export the results.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUi, sharedDir, type UiSession } from './support/ui';

const vqaRad = sharedDir ? join(sharedDir, 'data/vqa-rad/testset.json') : null;

describe.skipIf(!vqaRad)('evaluation screen (needs ../shared/data/vqa-rad)', () => {
  let ui: UiSession;

  beforeAll(async () => {
    ui = await openUi({ startApp: { installBundledKnowledge: false } });
    await ui.page.getByTestId('tab-eval').click();
  });

  afterAll(async () => {
    await ui?.close();
  });

  it('says what to do when there is no evaluation yet', async () => {
    await ui.page.getByTestId('eval-empty').waitFor();
    await ui.screenshot('20-eval-empty');
  });

  it('runs a dry-run evaluation over VQA-RAD items in three modes with progress, then shows its metrics', async () => {
    const { page } = ui;
    await page.getByTestId('eval-path').fill(vqaRad!);
    await page.getByTestId('eval-limit').fill('8');
    await page.getByTestId('eval-dry-run').check();
    await page.getByTestId('eval-start').click();
    // A dry run of 24 results may finish before a frame shows the progress bar; its outcome line always shows.
    await page.getByText('Evaluation complete.').waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByTestId('eval-row').first().textContent(), { timeout: 120_000, interval: 500 }).toContain('completed');
    const row = await page.getByTestId('eval-row').first().textContent();
    expect(row).toContain('24/24');
    expect(row).toContain('dry run');
    const metrics = page.getByTestId('eval-metrics');
    await metrics.waitFor();
    expect(await metrics.locator('tbody tr').count()).toBe(3);
    expect(await metrics.textContent()).toMatch(/\d+\/8\)/);
    await expect.poll(() => page.getByTestId('eval-results').locator('tbody tr').count()).toBe(24);
    await ui.screenshot('21-eval-metrics');
  });

  it('opens the self-contained HTML report and exports the per-item results', async () => {
    const { page } = ui;
    await page.getByTestId('eval-open-report').click();
    await page.getByTestId('eval-report').waitFor();
    const frame = page.frameLocator('[data-testid=eval-report-frame]');
    await expect.poll(() => frame.locator('body').textContent(), { timeout: 30_000 }).toMatch(/VQA-RAD|vqa-rad/i);
    await ui.screenshot('22-eval-report');
    await page.keyboard.press('Escape');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
  });

  it('raised no uncaught error in the page', () => {
    expect(ui.pageErrors).toEqual([]);
  });
});
