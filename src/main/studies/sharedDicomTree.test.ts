/**
 * "Done means" for the studies issue: the whole ../shared/data/dicom tree imports, and every file either decodes to
 * the dimensions its SOURCE.txt inventory states or is recorded with a specific, named reason. Compressed and
 * uncompressed encodings of the same image decode to identical (lossless) or near-identical (lossy) pixels.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../dicom/decodeFrame';
import { readDicomFile } from '../dicom/readDicom';
import { EventBus } from '../ipc/EventBus';
import { RunRegistry } from '../runs/RunRegistry';
import { openStore, type Db } from '../store/openStore';
import { StudiesService } from './StudiesService';

const dicomRoot = resolve(import.meta.dirname, '../../../../shared/data/dicom');
const haveShared = existsSync(join(dicomRoot, 'SOURCE.txt'));
if (!haveShared) console.warn(`skipping the shared DICOM tree tests: ${dicomRoot} is absent`);

interface InventoryLine {
  path: string;
  modality: string;
  rows: number | null;
  columns: number | null;
  frames: number;
}

function inventory(): InventoryLine[] {
  const text = readFileSync(join(dicomRoot, 'SOURCE.txt'), 'utf8');
  const lines = text.slice(text.indexOf('INVENTORY')).split('\n');
  return lines.flatMap((line) => {
    const m = /^(\S+)\s+\d+\s+(\S+)\s+(\d+|-)x(\d+|-)\s+fr=(\d+)/.exec(line);
    if (!m) return [];
    return [
      {
        path: m[1]!,
        modality: m[2]!,
        rows: m[3] === '-' ? null : Number(m[3]),
        columns: m[4] === '-' ? null : Number(m[4]),
        frames: Number(m[5]),
      },
    ];
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

async function grayValues(path: string, frame = 0): Promise<ArrayLike<number>> {
  const decoded = await decodeFrame(await readDicomFile(path), frame, path);
  if (decoded.kind !== 'gray') throw new Error(`${path}: expected grayscale`);
  return decoded.values;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): { r: number; meanAbsDiff: number } {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const [ma, mb] = [sa / n, sb / n];
  let cov = 0;
  let va = 0;
  let vb = 0;
  let mad = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
    mad += Math.abs(a[i]! - b[i]!);
  }
  return { r: cov / Math.sqrt(va * vb), meanAbsDiff: mad / n };
}

describe.skipIf(!haveShared)('the whole ../shared/data/dicom tree', () => {
  let dir: string;
  let db: Db;
  let studies: StudiesService;
  let summary: Awaited<ReturnType<StudiesService['importNow']>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-shared-dicom-'));
    db = openStore(join(dir, 'store.sqlite'));
    const bus = new EventBus();
    studies = new StudiesService({ db, runs: new RunRegistry(bus), bus });
    summary = await studies.importNow([dicomRoot]);
  });

  afterAll(() => {
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records every file: the 68 DICOM objects shown or explained, the DICOMDIR read for its references, the other files named as not DICOM', () => {
    const files = walk(dicomRoot);
    const outcomes = new Map(studies.fileOutcomes().map((o) => [o.path, o]));
    expect(outcomes.size).toBe(files.length);
    const lines = inventory();
    expect(lines).toHaveLength(69); // 68 DICOM objects and the DICOMDIR
    const listed = new Set(lines.map((l) => join(dicomRoot, l.path)));
    for (const file of files.filter((f) => !listed.has(f))) {
      expect(outcomes.get(file), file).toMatchObject({ status: 'failed', code: 'NOT_DICOM' });
    }
    expect(summary.skipped).toEqual([
      expect.objectContaining({ file: join(dicomRoot, 'pydicom_dicomdirtests/DICOMDIR'), code: 'DICOMDIR' }),
    ]);
    expect(summary.skipped[0]!.message).toContain('listing 31 files (31 found)');
    // Files that repeat a SOP Instance UID (MR_small and emri_small in other encodings) are "already present".
    const present = [...outcomes.values()].filter((o) => o.status === 'present');
    expect(present.map((o) => o.code)).toEqual(Array(7).fill('ALREADY_PRESENT'));
    expect(summary.imported + summary.alreadyPresent).toBe(68);
  });

  it('decodes the first and last frame of every image with the inventory dimensions, or names the reason', async () => {
    const outcomes = new Map(studies.fileOutcomes().map((o) => [o.path, o]));
    for (const line of inventory()) {
      const path = join(dicomRoot, line.path);
      const outcome = outcomes.get(path)!;
      if (line.path.endsWith('DICOMDIR')) {
        expect(outcome).toMatchObject({ status: 'skipped', code: 'DICOMDIR' });
        continue;
      }
      expect(['imported', 'present'], line.path).toContain(outcome.status);
      const parsed = await readDicomFile(path);
      if (line.rows === null) {
        expect(line.modality).toBe('SR');
        await expect(decodeFrame(parsed, 0), line.path).rejects.toMatchObject({ code: 'NO_PIXEL_DATA' });
        await expect(studies.frame({ sopInstanceUid: outcome.sopInstanceUid!, frame: 0 })).rejects.toMatchObject({
          code: 'NO_PIXEL_DATA',
        });
        expect(studies.report({ sopInstanceUid: outcome.sopInstanceUid! }).text.length).toBeGreaterThan(20);
        continue;
      }
      expect(parsed.modules.imagePixel?.numberOfFrames, line.path).toBe(line.frames);
      for (const frame of new Set([0, line.frames - 1])) {
        const decoded = await decodeFrame(parsed, frame, path);
        expect([decoded.rows, decoded.columns], `${line.path} frame ${frame}`).toEqual([line.rows, line.columns]);
        const samples = decoded.kind === 'gray' ? decoded.values : decoded.rgb;
        expect(samples.length, line.path).toBe(line.rows * (line.columns ?? 0) * (decoded.kind === 'gray' ? 1 : 3));
      }
      if (outcome.status === 'imported') {
        const pixels = await studies.frame({ sopInstanceUid: outcome.sopInstanceUid!, frame: line.frames - 1 });
        expect([pixels.rows, pixels.columns], line.path).toEqual([line.rows, line.columns]);
        expect(pixels.maxValue, line.path).toBeGreaterThan(pixels.minValue);
      }
    }
  });

  it('decodes lossless encodings of the same image identically', async () => {
    const mr = await grayValues(join(dicomRoot, 'pydicom_test_files/MR_small.dcm'));
    for (const variant of ['MR_small_RLE', 'MR_small_jp2klossless', 'MR_small_bigendian', 'MR_small_implicit']) {
      expect(await grayValues(join(dicomRoot, `pydicom_test_files/${variant}.dcm`)), variant).toEqual(mr);
    }
    for (const frame of [0, 4, 9]) {
      const emri = await grayValues(join(dicomRoot, 'pydicom_data/emri_small.dcm'), frame);
      for (const variant of ['emri_small_RLE', 'emri_small_jpeg_ls_lossless', 'emri_small_big_endian']) {
        expect(
          await grayValues(join(dicomRoot, `pydicom_data/${variant}.dcm`), frame),
          `${variant} frame ${frame}`,
        ).toEqual(emri);
      }
    }
  });

  it('decodes the 693 and NM pairs near-identically', async () => {
    // 693_J2KR (lossless J2K, 14-bit signed) and 693_UNCI (BitsStored 14) are not the same stored values: UNCI pads
    // with −2016 where J2KR has −2000 and is smoothed in soft tissue. Same image, same geometry, strongly correlated.
    const unci = await grayValues(join(dicomRoot, 'pydicom_data/693_UNCI.dcm'));
    const j2kr = await grayValues(join(dicomRoot, 'pydicom_data/693_J2KR.dcm'));
    expect(unci.length).toBe(j2kr.length);
    expect(correlation(unci, j2kr).r).toBeGreaterThan(0.99);
    // JPGExtended (lossy 12-bit DCT) against JPEG-LL (lossless) of the same NM image.
    const extended = await grayValues(join(dicomRoot, 'pydicom_test_files/JPGExtended.dcm'));
    const lossless = await grayValues(join(dicomRoot, 'pydicom_data/JPEG-LL.dcm'));
    const nm = correlation(extended, lossless);
    expect(nm.r).toBeGreaterThan(0.98);
    expect(nm.meanAbsDiff).toBeLessThan(3);
  });

  it('orders the edge-case CT series and reports its duplicate position and gaps', () => {
    const study = studies.list({ patient: 'Lymphoma' })[0]!;
    const [series] = studies.series({ studyInstanceUid: study.studyInstanceUid });
    expect(series!.instanceCount).toBe(11);
    expect(
      series!.warnings.some((w) => w.startsWith('Duplicate position: instances 21 (CT26.dcm) and 21 (CT28.dcm)')),
    ).toBe(true);
    expect(series!.warnings.filter((w) => w.startsWith('Gap of'))).toHaveLength(3);
    const order = studies.instances({ seriesInstanceUid: series!.seriesInstanceUid }).map((i) => i.instanceNumber);
    expect(order).toEqual([2, 21, 21, 34, 80, 83, 126, 131, 138, 145, 190]);
    const positions = studies.instances({ seriesInstanceUid: series!.seriesInstanceUid }).map((i) => i.sliceLocation);
    expect(positions[0]).toBe(-42.5);
  });
});
