import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventChannel } from '../../shared/contract';
import { EventBus } from '../ipc/EventBus';
import { RunRegistry } from '../runs/RunRegistry';
import { openStore, type Db } from '../store/openStore';
import { decodeFrameImage, frameBitmap } from '../dicom/frameImage';
import { readDicomFile } from '../dicom/readDicom';
import { encodePng } from '../dicom/renderPng';
import { StudiesService } from './StudiesService';

const root = resolve(import.meta.dirname, '../../..');
const samples = join(root, 'resources/sample-studies');
const fixtures = join(root, 'tests/fixtures/dicom');

describe('StudiesService on the bundled samples and fixtures', () => {
  let dir: string;
  let db: Db;
  let bus: EventBus;
  let runs: RunRegistry;
  let studies: StudiesService;
  let events: { event: EventChannel; payload: unknown }[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-studies-'));
    db = openStore(join(dir, 'store.sqlite'));
    bus = new EventBus();
    runs = new RunRegistry(bus);
    events = [];
    bus.subscribe((event, payload) => events.push({ event, payload }));
    studies = new StudiesService({ db, runs, bus }, { importer: { batchSize: 2 } });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a folder once, lists studies with normalised names and filters, and is idempotent', async () => {
    const first = await studies.importNow([samples]);
    expect(first.imported).toBe(6);
    expect(first.failed.map((f) => f.code)).toEqual(['NOT_DICOM', 'NOT_DICOM', 'NOT_DICOM', 'NOT_DICOM']); // licenses, README
    const list = studies.list();
    expect(list.map((s) => s.patientName)).toContain('Dog, AVeryGood');
    const dx = list.find((s) => s.patientName === 'Dog, AVeryGood')!;
    expect(dx).toMatchObject({ studyDate: '2020-01-25', studyTime: '10:47:02', modalities: ['DX'], kind: 'dicom' });
    expect(studies.list({ modality: 'SR' })).toHaveLength(1);
    expect(studies.list({ patient: 'dog' }).map((s) => s.patientId)).toEqual(['123456']);
    expect(studies.list({ patient: 'Dog, AVeryGood' })).toHaveLength(1);
    expect(studies.list({ dateFrom: '2020-01-01', dateTo: '2020-12-31' })).toHaveLength(1);
    expect(studies.list({ text: 'chest' }).map((s) => s.patientName)).toEqual(['Dog, AVeryGood']); // series description
    expect(studies.list({ text: '100%_' })).toEqual([]);

    const again = await studies.importNow([samples]);
    expect(again).toMatchObject({ imported: 0, alreadyPresent: 6 });
    expect(studies.fileOutcomes().find((o) => o.path.endsWith('CT_small.dcm'))).toMatchObject({
      status: 'present',
      code: 'ALREADY_PRESENT',
    });
  });

  it('serves frames as typed arrays, model PNGs with their sha256, thumbnails and SR text', async () => {
    await studies.importNow([samples]);
    const cine = studies.list({ modality: 'US' })[0]!;
    const [series] = studies.series({ studyInstanceUid: cine.studyInstanceUid });
    expect(series).toMatchObject({ frameCount: 30, instanceCount: 1, isReport: false });
    const [instance] = studies.instances({ seriesInstanceUid: series!.seriesInstanceUid });
    const frame = await studies.frame({ sopInstanceUid: instance!.sopInstanceUid, frame: 12 });
    expect(frame).toMatchObject({ rows: 240, columns: 320, samplesPerPixel: 3 });
    expect(frame.pixels).toBeInstanceOf(Uint8Array);

    const ct = studies.list({ modality: 'CT' })[0]!;
    const ctSeries = studies.series({ studyInstanceUid: ct.studyInstanceUid })[0]!;
    const ctInstance = studies.instances({ seriesInstanceUid: ctSeries.seriesInstanceUid })[0]!;
    const pixels = await studies.frame({ sopInstanceUid: ctInstance.sopInstanceUid, frame: 0 });
    expect(pixels.pixels).toBeInstanceOf(Float32Array);
    expect(pixels).toMatchObject({ rows: 128, columns: 128, samplesPerPixel: 1, invert: false });
    expect(pixels.minValue).toBeLessThan(-800); // Hounsfield units after the rescale intercept

    const lung = await studies.renderModelImage({
      sopInstanceUid: ctInstance.sopInstanceUid,
      frame: 0,
      window: { center: -600, width: 1500 },
    });
    const bone = await studies.renderModelImage({
      sopInstanceUid: ctInstance.sopInstanceUid,
      frame: 0,
      window: { center: 480, width: 2500 },
    });
    expect(lung).toMatchObject({
      width: 128,
      height: 128,
      window: { center: -600, width: 1500 },
      studyInstanceUid: ct.studyInstanceUid,
    });
    expect(lung.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lung.sha256).not.toBe(bone.sha256);
    const repeat = await studies.renderModelImage({
      sopInstanceUid: ctInstance.sopInstanceUid,
      frame: 0,
      window: { center: -600, width: 1500 },
    });
    expect(Buffer.from(repeat.png).equals(Buffer.from(lung.png))).toBe(true);
    const small = await studies.renderModelImage({
      sopInstanceUid: ctInstance.sopInstanceUid,
      frame: 0,
      window: null,
      maxSize: 64,
    });
    expect([small.width, small.height]).toEqual([64, 64]);
    await expect(
      studies.renderModelImage({
        sopInstanceUid: ctInstance.sopInstanceUid,
        frame: 0,
        window: { center: 0, width: 0 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const thumb = await studies.thumbnail({ seriesInstanceUid: ctSeries.seriesInstanceUid, maxSize: 32 });
    expect(Buffer.from(thumb.subarray(1, 4)).toString()).toBe('PNG');

    const report = studies.list({ modality: 'SR' })[0]!;
    const srSeries = studies.series({ studyInstanceUid: report.studyInstanceUid })[0]!;
    expect(srSeries.isReport).toBe(true);
    const sr = studies.instances({ seriesInstanceUid: srSeries.seriesInstanceUid })[0]!;
    expect(sr.undisplayableReason).toMatch(/structured report/);
    expect(studies.report({ sopInstanceUid: sr.sopInstanceUid }).text).toMatch(/^Document Title/);
    await expect(studies.frame({ sopInstanceUid: sr.sopInstanceUid, frame: 0 })).rejects.toMatchObject({
      code: 'NO_PIXEL_DATA',
    });
    await expect(studies.frame({ sopInstanceUid: '1.2.3', frame: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts plain PNG/JPEG images as image studies and renders files for the model', async () => {
    await studies.importNow([join(samples, 'pydicom/CT_small.dcm')]);
    const ct = studies.list()[0]!;
    const series = studies.series({ studyInstanceUid: ct.studyInstanceUid })[0]!;
    const instance = studies.instances({ seriesInstanceUid: series.seriesInstanceUid })[0]!;
    const png = await studies.renderModelImage({ sopInstanceUid: instance.sopInstanceUid, frame: 0, window: null });
    const pngPath = join(dir, 'case.png');
    writeFileSync(pngPath, png.png);
    const summary = await studies.importNow([pngPath]);
    expect(summary.imported).toBe(1);
    const image = studies.list().find((s) => s.kind === 'image')!;
    expect(image).toMatchObject({ description: 'case.png', modalities: ['OT'] });
    const imageInstance = studies.instances({
      seriesInstanceUid: studies.series({ studyInstanceUid: image.studyInstanceUid })[0]!.seriesInstanceUid,
    })[0]!;
    const frame = await studies.frame({ sopInstanceUid: imageInstance.sopInstanceUid, frame: 0 });
    expect(frame).toMatchObject({ rows: 128, columns: 128, samplesPerPixel: 1 });
    const again = await studies.imageStudyPng({ path: pngPath });
    expect(again.sha256).toBe(png.sha256); // an 8-bit gray PNG round-trips to the same bytes
    const fromFile = await studies.renderFileImage(join(samples, 'pydicom/CT_small.dcm'), { frame: 0, window: null });
    expect(fromFile.sha256).toBe(png.sha256);
    await expect(studies.imageStudyPng({ path: join(dir, 'missing.png') })).rejects.toMatchObject({
      code: 'FILE_MISSING',
    });
  });

  it('renders JPEG 2000 thumbnails and model images from a reduced-resolution decode, the same bytes whatever is cached', async () => {
    const j2k = join(fixtures, 'MR_small_jp2klossless.dcm');
    await studies.importNow([j2k]);
    const series = studies.series({ studyInstanceUid: studies.list()[0]!.studyInstanceUid })[0]!;
    const instance = studies.instances({ seriesInstanceUid: series.seriesInstanceUid })[0]!;
    const request = { sopInstanceUid: instance.sopInstanceUid, frame: 0, window: null, maxSize: 16 };
    const cold = await studies.renderModelImage(request);
    const thumbCold = await studies.thumbnail({ seriesInstanceUid: series.seriesInstanceUid, maxSize: 16 });
    await studies.frame({ sopInstanceUid: instance.sopInstanceUid, frame: 0 }); // the viewer's full frame, now cached
    const warm = await studies.renderModelImage(request);
    const thumbWarm = await studies.thumbnail({ seriesInstanceUid: series.seriesInstanceUid, maxSize: 16 });
    expect(warm.sha256).toBe(cold.sha256);
    expect(Buffer.from(thumbWarm).equals(Buffer.from(thumbCold))).toBe(true);
    // The 64² frame at level 2 (16²), windowed and encoded: exactly what the file renderer makes from a 1/4 decode.
    const reduced = await decodeFrameImage(await readDicomFile(j2k), 0, j2k, { maxSide: 16 });
    expect(reduced.scale).toBe(4);
    const direct = encodePng(frameBitmap(reduced, null).bitmap);
    expect([cold.width, cold.height]).toEqual([16, 16]);
    expect(cold.sha256).toBe(direct.sha256);
    expect((await studies.renderFileImage(j2k, { frame: 0, window: null, maxSize: 16 })).sha256).toBe(cold.sha256);
    // At 64 (no level fits twice over) the model image comes from the full frame.
    const full = await studies.renderModelImage({ ...request, maxSize: 64 });
    expect([full.width, full.height]).toEqual([64, 64]);
  });

  it('streams progress, commits in batches, and keeps what was committed when cancelled', async () => {
    const folder = join(dir, 'import');
    mkdirSync(folder);
    for (const name of ['MR_small_RLE.dcm', 'JPGExtended.dcm', 'test-SR.dcm'])
      copyFileSync(join(fixtures, name), join(folder, name));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    writeFileSync(join(folder, 'cut.dcm'), readFileSync(join(samples, 'pydicom/CT_small.dcm')).subarray(0, 700));

    const { runId } = studies.startImport({ paths: [folder] });
    const outcome = await runs.waitFor(runId);
    expect(outcome).toEqual({ status: 'completed' });
    const done = events.find((e) => e.event === 'studies.importDone')!.payload as {
      summary: { imported: number; failed: { file: string; code: string }[] };
    };
    expect(done.summary.imported).toBe(3);
    expect(Object.fromEntries(done.summary.failed.map((f) => [f.file.split('/').pop(), f.code]))).toEqual({
      'cut.dcm': 'DICOM_TRUNCATED',
      'notes.txt': 'NOT_DICOM',
    });
    expect(events.some((e) => e.event === 'studies.importProgress')).toBe(true);
    expect(events.filter((e) => e.event === 'runs.finished')).toHaveLength(1);

    // Cancel once the first batch (at most 2 files) is committed: it stays, the rest is not imported.
    const instances = (): number => studies.list().reduce((n, study) => n + study.instanceCount, 0);
    const before = instances();
    let atFirstCommit = -1;
    const controller = new AbortController();
    const second = studies.importNow([samples], {
      signal: controller.signal,
    });
    bus.subscribe((event) => {
      if (event !== 'studies.changed' || atFirstCommit >= 0) return;
      atFirstCommit = instances();
      controller.abort();
    });
    const partial = await second;
    expect(partial.cancelled).toBe(true);
    expect(partial.imported).toBeGreaterThanOrEqual(1);
    expect(partial.imported).toBeLessThanOrEqual(2);
    expect(atFirstCommit - before).toBe(partial.imported);
    expect(instances()).toBe(atFirstCommit);
    expect(partial.filesSeen).toBeLessThan(10);
    expect(studies.list().length).toBeGreaterThanOrEqual(3 + partial.imported);

    const removed = studies.remove({ studyInstanceUid: studies.list({ modality: 'SR' })[0]!.studyInstanceUid });
    expect(removed).toEqual({ removed: true });
    expect(studies.list({ modality: 'SR' })).toEqual([]);
  });
});

describe('bundled samples on first start', () => {
  it('imports the sample DICOM files once per data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medrwr-samples-'));
    const db = openStore(join(dir, 'store.sqlite'));
    try {
      const bus = new EventBus();
      const runs = new RunRegistry(bus);
      const studies = new StudiesService({ db, runs, bus });
      const started = studies.importBundledSamplesOnFirstStart(samples);
      expect(started).not.toBeNull();
      expect(await runs.waitFor(started!.runId)).toEqual({ status: 'completed' });
      expect(studies.list()).toHaveLength(6);
      expect(studies.fileOutcomes().every((o) => o.status === 'imported')).toBe(true);
      expect(new StudiesService({ db, runs, bus }).importBundledSamplesOnFirstStart(samples)).toBeNull();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
