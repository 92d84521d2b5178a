/**
 * The reranker from Settings → Models to a reranked search, in Debian Chromium over the loopback bridge with the real
 * services: pick a file, read its inspection (a BERT encoder without a classification head is flagged, the tiny
 * generated reranker is recognised), save, load it in the engine process until "ready", then search the knowledge
 * base and see each hit carry its rerank score. Screenshots go to tests/e2e/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../fixtures/gguf/tinyModels';
import { openUi, searchKnowledgeUntilHits, type UiSession } from './support/ui';

describe('reranker in Settings → Models', () => {
  let ui: UiSession;
  let tiny: TinyModels;

  beforeAll(async () => {
    tiny = await ensureTinyModels();
    ui = await openUi();
  });

  afterAll(async () => {
    await ui?.close();
  });

  it('flags a file without a classification head, then recognises the tiny reranker', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+5');
    await page.getByTestId('settings-models-tab').click();
    const inspection = page.getByTestId('settings-models').locator('.model-row').nth(3).getByTestId('model-inspection');

    await page.getByTestId('model-path-reranker').fill(tiny.bertEncoder);
    await expect.poll(() => inspection.textContent(), { timeout: 90_000 }).toContain('tiny-random-bert-encoder');
    expect(await inspection.getByTestId('model-role-mismatch').textContent()).toContain('Not a reranker: it has no classification head');
    await ui.screenshot('40-settings-reranker-not-a-reranker');

    await page.getByTestId('model-path-reranker').fill(tiny.reranker);
    await expect.poll(() => inspection.textContent(), { timeout: 90_000 }).toContain('tiny-random-bert-reranker');
    const text = (await inspection.textContent())!;
    expect(text).toContain('bert');
    expect(text).toContain('reranker (classification head)');
    expect(text).toContain('ctx 1024');
    expect(text).toMatch(/sha256 [0-9a-f]+/);
    expect(await inspection.getByTestId('model-role-mismatch').count()).toBe(0);
    await ui.screenshot('40b-settings-reranker-inspected');
  });

  it('saves and loads the reranker in the engine process: its row turns "ready" with the file\'s hash', async () => {
    const { page, running } = ui;
    await page.getByTestId('save-models').click();
    await expect.poll(() => running.app.settings.get().models.reranker).toBe(tiny.reranker);
    await page.getByTestId('load-reranker').click();
    await expect.poll(() => page.getByTestId('engine-state-reranker').textContent(), { timeout: 150_000, interval: 500 }).toBe('ready');
    const row = (await page.getByTestId('engine-row-reranker').textContent())!;
    expect(row).toContain(tiny.reranker);
    expect(row).toContain(running.app.engine.status().reranker.sha256!.slice(0, 8));
    expect(running.app.engine.reranker()?.model.path).toBe(tiny.reranker);
    await ui.screenshot('41-settings-reranker-ready');
  });

  it('a knowledge search is reranked: every hit shows its rerank score, highest first', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+1');
    await page.getByTestId('study-row').first().dblclick();
    await searchKnowledgeUntilHits(page, 'What are the symptoms of pneumonia?');
    await page.getByTestId('reranked-badge').waitFor();
    // The card shows the score the hits are ordered by; its tooltip breaks it down (bm25, cosine, rerank).
    const titles = await page.locator('[data-testid="hit-card"] .hit-score').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('title') ?? ''));
    const shown = await page.locator('[data-testid="hit-card"] .hit-score').allTextContents();
    const scores = titles.map((title) => Number(/rerank (\d\.\d{3})/.exec(title)?.[1]));
    scores.forEach((score, i) => {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
      expect(shown[i]).toBe(score.toFixed(3));
    });
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await page.getByTestId('hit-card').first().click();
    await expect.poll(() => page.getByTestId('passage-provenance').textContent()).toContain(`rerank ${scores[0]!.toFixed(3)}`);
    await ui.screenshot('43-passage-rerank-score');
    await page.keyboard.press('Escape');
    await ui.screenshot('42-knowledge-search-reranked');
    expect(ui.pageErrors).toEqual([]);
  });
});
