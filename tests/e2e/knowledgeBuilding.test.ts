/**
 * First start: while the bundled knowledge base is being built, the reading panel and the evaluation screen say so
 * ("Building knowledge base…", with the install's progress), and the notices go away when it is done. The install is
 * the real one (real files, real progress events), held at its start so the screenshot is not a race.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBundledKnowledge } from '../../src/main/knowledge/bundled/installBundledKnowledge';
import { ingestProgressEvent } from '../../src/main/knowledge/ingestProgressEvent';
import { projectRoot } from './support/startApp';
import { openUi, type UiSession } from './support/ui';

describe('building the bundled knowledge base on first start', () => {
  let ui: UiSession;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    ui = await openUi({ startApp: { installBundledKnowledge: false } });
  });

  afterAll(async () => {
    release();
    await ui?.close();
  });

  it('shows "building knowledge base…" in the reading panel and the evaluation screen until it is built', async () => {
    const { page, running } = ui;
    const { app } = running;
    const held = new Promise<void>((resolve) => (release = resolve));
    // As compose.ts runs it on a fresh data directory, but held until the notices have been seen.
    const runId = app.runs.start('knowledge.bundled', async ({ runId, signal }) => {
      await held;
      await installBundledKnowledge(app.knowledge, join(projectRoot, 'resources'), {
        signal,
        onProgress: (report, filesDone, filesTotal) =>
          app.bus.emit('knowledge.ingestProgress', ingestProgressEvent(runId, report, filesDone, filesTotal)),
      });
    });
    app.knowledgeGate.follow(runId, app.runs.waitFor(runId));

    await page.reload();
    await page.getByTestId('network-status').filter({ hasText: 'blocked' }).waitFor();
    await page.getByTestId('study-row').first().dblclick();
    const panelNotice = page.getByTestId('reasoning-panel').getByTestId('knowledge-building');
    await panelNotice.waitFor();
    expect(await panelNotice.textContent()).toContain('Building knowledge base…');
    expect(await panelNotice.textContent()).toContain('Questions asked now wait for it');
    // While it builds, the panel does not call the (still filling) knowledge base empty.
    expect(await page.getByTestId('kb-empty-notice').count()).toBe(0);
    await ui.screenshot('35-knowledge-building-panel');

    await page.getByTestId('tab-eval').click();
    const evalNotice = page.getByTestId('eval-screen').getByTestId('knowledge-building');
    await evalNotice.waitFor();
    expect(await evalNotice.textContent()).toContain('Model evaluations started now wait for it');
    await page.getByTestId('eval-dry-run').check();
    await evalNotice.waitFor({ state: 'detached' });
    await page.getByTestId('eval-dry-run').uncheck();
    await evalNotice.waitFor();
    await ui.screenshot('36-knowledge-building-eval');

    release();
    await evalNotice.waitFor({ state: 'detached', timeout: 60_000 });
    expect(app.knowledgeGate.snapshot()).toMatchObject({ state: 'ready', error: null });
    expect(app.knowledge.stats().passages).toBeGreaterThan(1000);
    await page.getByTestId('tab-reading').click();
    await page.getByTestId('reasoning-panel').waitFor();
    expect(await page.getByTestId('knowledge-building').count()).toBe(0);
  });

  it('raised no uncaught error in the page', () => {
    expect(ui.pageErrors).toEqual([]);
  });
});
