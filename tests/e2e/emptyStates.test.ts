/**
 * What a fresh station says before anything is set up (no knowledge base built, no model, no run), in Debian Chromium
 * over the loopback bridge with the real services: every empty place says why and what to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUi, type UiSession } from './support/ui';

describe('empty states and guidance on a fresh station', () => {
  let ui: UiSession;

  beforeAll(async () => {
    ui = await openUi({ startApp: { installBundledKnowledge: false } });
  });

  afterAll(async () => {
    await ui?.close();
  });

  it('the reading screen asks for a study first', async () => {
    const { page } = ui;
    await page.getByTestId('tab-reading').click();
    await page.getByTestId('reading-empty').waitFor();
    expect(await page.getByTestId('reading-empty').textContent()).toContain('press Enter');
    await ui.screenshot('30-reading-empty');
  });

  it('history explains what will appear there', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+3');
    await page.getByTestId('history-empty').waitFor();
    expect(await page.getByTestId('history-empty').textContent()).toContain('ask a question');
  });

  it('an empty knowledge base says how to fill it, and the reasoning panel warns before a run', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+5');
    await page.getByTestId('settings-knowledge-tab').click();
    await page.getByTestId('knowledge-empty').waitFor();
    await ui.screenshot('31-knowledge-empty');

    await page.keyboard.press('Alt+1');
    await page.getByTestId('study-row').first().dblclick();
    await page.getByTestId('no-model-notice').waitFor();
    await page.getByTestId('kb-empty-notice').waitFor();
    expect(await page.getByTestId('analyze').isDisabled()).toBe(true);
    await ui.screenshot('32-panel-no-model-empty-kb');
  });

  it('a drop without file paths (browser transport) says to type the path instead', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+1');
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['not really dicom'], 'CT0001.dcm', { type: 'application/dicom' }));
      return transfer;
    });
    await page.getByTestId('studies-screen').dispatchEvent('drop', { dataTransfer });
    await page.getByText('cannot see the paths of dropped files').waitFor();
    expect(await page.getByTestId('import-path').isVisible()).toBe(true);
  });

  it('import failures are listed per file with their reason', async () => {
    const { page } = ui;
    await page.getByTestId('import-path').fill('/nonexistent/folder/for-the-test');
    await page.getByTestId('import-start').click();
    await expect
      .poll(async () => (await page.getByTestId('import-failures').count()) + (await page.getByTestId('error-notice').count()), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await ui.screenshot('33-import-failure');
  });

  it('the keyboard shortcuts are one key away', async () => {
    const { page } = ui;
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('?');
    await page.getByTestId('shortcuts-help').waitFor();
    expect(await page.getByTestId('shortcuts-help').textContent()).toContain('Lung W 1500 / L -600');
    await ui.screenshot('34-shortcuts');
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts-help').waitFor({ state: 'detached' });
  });

  it('raised no uncaught error in the page', () => {
    expect(ui.pageErrors).toEqual([]);
  });
});
