/**
 * Studies through the real contract in Debian Chromium over the loopback bridge: the bundled samples on first start,
 * frames as binary typed arrays, an import of a real folder with streamed progress and `runs.finished`, and an import
 * cancelled mid-way that keeps what it had committed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium';
import { projectRoot, startApp, type RunningApp } from './support/startApp';

const ctSeries = resolve(projectRoot, '../shared/data/dicom/dicom_numpy_ct_series');
const haveShared = existsSync(ctSeries);
if (!haveShared) console.warn(`skipping the real-folder import: ${ctSeries} is absent (../shared)`);

/** Copies of MR_small with distinct SOP Instance UIDs (same-length digits swapped in), enough for a long import. */
function manyInstances(folder: string, count: number): void {
  const source = readFileSync(join(projectRoot, 'resources/sample-studies/pydicom/MR_small.dcm'));
  const uid = '1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457';
  const needle = Buffer.from(uid, 'latin1');
  expect(source.indexOf(needle)).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const copy = Buffer.from(source);
    const replacement = Buffer.from(`${uid.slice(0, -4)}${String(i).padStart(4, '0')}`, 'latin1');
    for (let at = copy.indexOf(needle); at >= 0; at = copy.indexOf(needle, at + 1)) replacement.copy(copy, at);
    writeFileSync(join(folder, `IM${String(i).padStart(4, '0')}`), copy);
  }
}

interface ImportTrace {
  runId: string;
  progress: { filesDone: number; filesTotal: number; imported: number; error: { code: string } | null }[];
  finished: { status: string } | null;
  summary: { imported: number; failed: { file: string; code: string }[] } | null;
  cancelRequested: boolean;
}

/** Starts an import from the page and collects its events until `runs.finished`; optionally cancels after a commit. */
function importFromPage(page: Page, paths: string[], cancelAfterFirstCommit: boolean): Promise<ImportTrace> {
  return page.evaluate(
    ({ paths, cancelAfterFirstCommit }) =>
      new Promise<ImportTrace>((resolveTrace, reject) => {
        const trace: ImportTrace = { runId: '', progress: [], finished: null, summary: null, cancelRequested: false };
        const early: { kind: string; payload: { runId?: string } & Record<string, unknown> }[] = [];
        const handle = (kind: string, payload: { runId?: string } & Record<string, unknown>): void => {
          if (!trace.runId) {
            early.push({ kind, payload });
            return;
          }
          if (kind === 'changed' && cancelAfterFirstCommit && !trace.cancelRequested) {
            trace.cancelRequested = true;
            void window.api.runs.cancel({ runId: trace.runId });
          }
          if (payload.runId !== trace.runId) return;
          if (kind === 'progress') trace.progress.push(payload as unknown as ImportTrace['progress'][number]);
          if (kind === 'done') trace.summary = payload['summary'] as ImportTrace['summary'];
          if (kind === 'finished') {
            trace.finished = payload['outcome'] as ImportTrace['finished'];
            for (const off of unsubscribe) off();
            resolveTrace(trace);
          }
        };
        const unsubscribe = [
          window.api.studies.onImportProgress((p) => handle('progress', p as never)),
          window.api.studies.onImportDone((p) => handle('done', p as never)),
          window.api.studies.onChanged((p) => handle('changed', p as never)),
          window.api.runs.onFinished((p) => handle('finished', p as never)),
        ];
        window.api.studies.import({ paths }).then(({ runId }) => {
          trace.runId = runId;
          for (const e of early.splice(0)) handle(e.kind, e.payload);
        }, reject);
      }),
    { paths, cancelAfterFirstCommit },
  );
}

describe('studies import through window.api in Chromium', () => {
  let running: RunningApp;
  let browser: Browser;
  let page: Page;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'medrwr-e2e-studies-'));
    running = await startApp();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(running.bridge.pageUrl);
    await page.waitForFunction(() => typeof window.api?.studies?.list === 'function');
  });

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('lists the bundled sample studies on first start and serves a frame as a binary typed array', async () => {
    await expect
      .poll(() => page.evaluate(async () => (await window.api.studies.list({})).length), { timeout: 60_000 })
      .toBe(6);
    const frame = await page.evaluate(async () => {
      const [ct] = await window.api.studies.list({ modality: 'CT' });
      const [series] = await window.api.studies.series({ studyInstanceUid: ct!.studyInstanceUid });
      const [instance] = await window.api.studies.instances({ seriesInstanceUid: series!.seriesInstanceUid });
      const pixels = await window.api.studies.frame({ sopInstanceUid: instance!.sopInstanceUid, frame: 0 });
      const image = await window.api.studies.modelImage({
        sopInstanceUid: instance!.sopInstanceUid,
        frame: 0,
        window: null,
      });
      return {
        type: pixels.pixels.constructor.name,
        length: pixels.pixels.length,
        rows: pixels.rows,
        columns: pixels.columns,
        min: pixels.minValue,
        pngType: image.png.constructor.name,
        pngMagic: String.fromCharCode(...image.png.subarray(1, 4)),
        sha256: image.sha256,
      };
    });
    expect(frame).toMatchObject({
      type: 'Float32Array',
      length: 128 * 128,
      rows: 128,
      columns: 128,
      pngType: 'Uint8Array',
      pngMagic: 'PNG',
    });
    expect(frame.min).toBeLessThan(-800);
    expect(frame.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.skipIf(!haveShared)('imports a real CT folder with streamed progress and runs.finished', async () => {
    const trace = await importFromPage(page, [ctSeries], false);
    expect(trace.finished).toEqual({ status: 'completed' });
    expect(trace.progress.length).toBeGreaterThan(0);
    expect(trace.progress.at(-1)).toMatchObject({ filesDone: 12, filesTotal: 12 });
    expect(trace.summary?.imported).toBe(11);
    expect(trace.summary?.failed.map((f) => f.code)).toEqual(['NOT_DICOM']); // the folder's LICENSE.txt
    const series = await page.evaluate(async () => {
      const [study] = await window.api.studies.list({ patient: 'Lymphoma' });
      return window.api.studies.series({ studyInstanceUid: study!.studyInstanceUid });
    });
    expect(series[0]!.instanceCount).toBe(11);
    expect(series[0]!.warnings.join('\n')).toContain('Duplicate position');
  });

  it('cancels an import mid-way: it ends "cancelled" and what was committed stays', async () => {
    const folder = join(scratch, 'long-import');
    mkdirSync(folder);
    const total = 800;
    manyInstances(folder, total);
    const trace = await importFromPage(page, [folder], true);
    expect(trace.cancelRequested).toBe(true);
    expect(trace.finished).toEqual({ status: 'cancelled' });
    const committed = trace.summary!.imported;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(total);
    const instances = await page.evaluate(async () => {
      const [study] = await window.api.studies.list({ patient: 'CompressedSamples, MR1' });
      const series = await window.api.studies.series({ studyInstanceUid: study!.studyInstanceUid });
      return series.reduce((n, s) => n + s.instanceCount, 0);
    });
    // The sample MR_small (first start) plus the committed copies.
    expect(instances).toBe(committed + 1);
  });
});
