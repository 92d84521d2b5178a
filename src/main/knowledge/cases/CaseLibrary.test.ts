import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Db } from '../../store/openStore';
import { KnowledgeService } from '../KnowledgeService';
import { sharedData } from '../testSupport/sharedData';
import { decodeImage, thumbnailPng } from './decodeImage';
import { DescriptorEncoder } from './DescriptorEncoder';

const medpix = sharedData('image-cases/medpix2_test_split');
const covid = sharedData('image-cases/covid_chestxray_subset');
const scratch = mkdtempSync(join(tmpdir(), 'kb-cases-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function syntheticPng(width: number, height: number, pixel: (x: number, y: number) => number): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = pixel(x, y);
  return thumbnailPng({ width, height, channels: 1, data }, Math.max(width, height));
}

describe('built-in image descriptor', () => {
  const encoder = new DescriptorEncoder();
  const disc = (cx: number) => (x: number, y: number) => (Math.hypot(x - cx, y - 100) < 60 ? 220 : 30);

  it('is unit-length, deterministic, and invariant to black borders and scale', async () => {
    const image = await decodeImage(syntheticPng(200, 200, disc(100)), 'disc');
    const a = encoder.encode(image);
    expect(a).toHaveLength(encoder.dimensions);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    expect(encoder.encode(image)).toEqual(a);
    const bordered = await decodeImage(
      syntheticPng(300, 260, (x, y) => (x < 50 || x >= 250 || y < 30 || y >= 230 ? 0 : disc(100)(x - 50, y - 30))),
      'bordered',
    );
    const small = await decodeImage(
      syntheticPng(100, 100, (x, y) => disc(100)(x * 2, y * 2)),
      'small',
    );
    const dot = (u: Float32Array, v: Float32Array): number => u.reduce((s, x, i) => s + x * v[i]!, 0);
    expect(dot(a, encoder.encode(bordered))).toBeGreaterThan(0.97);
    expect(dot(a, encoder.encode(small))).toBeGreaterThan(0.97);
    const stripes = await decodeImage(
      syntheticPng(200, 200, (x) => (x % 20 < 10 ? 200 : 40)),
      'stripes',
    );
    expect(dot(a, encoder.encode(stripes))).toBeLessThan(0.6);
  });
});

describe.skipIf(!medpix)(
  'MedPix 2.0 test split as a case corpus (../shared/data/image-cases/medpix2_test_split)',
  () => {
    let dir: string;
    let db: Db;
    let kb: KnowledgeService;
    beforeAll(async () => {
      dir = mkdtempSync(join(scratch, 'medpix-'));
      db = openStore(join(dir, 'kb.sqlite'));
      kb = new KnowledgeService(db);
    });
    afterAll(() => db.close());

    it('ingests 69 cases with their 200 images, consultation text and diagnosis', async () => {
      const progress: string[] = [];
      const summary = await kb.ingestCases(medpix!, { onProgress: (r) => progress.push(r.status) });
      expect(summary.corpus).toBe('MedPix 2.0 (test split)');
      expect(summary.cases).toHaveLength(69);
      expect(summary.imagesAdded).toBe(200);
      expect(progress.every((s) => s === 'ingested')).toBe(true);
      expect(kb.stats()).toMatchObject({ cases: 69, caseImages: 200, caseEncoder: 'intensity-gradient-descriptor/1' });
      const again = await kb.ingestCases(medpix!);
      expect(again.cases.every((c) => c.status === 'skipped' && c.reason === 'already ingested')).toBe(true);
    });

    it('finds the query image first and its own case among the top cases', async () => {
      const image = join(medpix!, 'images/MPX2077_synpic51021.png');
      const [top] = await kb.searchCases(image, 1, { distinctCases: false });
      expect(top).toMatchObject({
        rank: 1,
        imagePath: image,
        title: 'Choroid Plexus Carcinoma',
        diagnosis: 'Choroid Plexus Carcinoma',
        corpus: 'MedPix 2.0 (test split)',
      });
      expect(top!.score).toBeCloseTo(1, 5);
      expect(top!.modality).toMatch(/MR/);
      expect(top!.consultation).toMatch(/^History: 15 month old girl fell off a chair/);
      expect(top!.consultation).toMatch(/Diagnosis: Choroid Plexus Carcinoma$/);

      const fromBytes = await kb.searchCases(new Uint8Array(readFileSync(image)), 5);
      expect(new Set(fromBytes.map((h) => h.caseId)).size).toBe(5);
      const leaveOut = await kb.searchCases(image, 5, { distinctCases: false, excludeImageIds: [top!.imageId] });
      expect(leaveOut.every((h) => h.imageId !== top!.imageId)).toBe(true);
    });

    it('serves PNG thumbnails of case images', async () => {
      const [hit] = await kb.searchCases(join(medpix!, 'images/MPX1031_synpic20041.png'), 1);
      const small = await decodeImage(await kb.caseImage(hit!.imageId, 64), 'thumbnail');
      expect(Math.max(small.width, small.height)).toBe(64);
      const full = await decodeImage(await kb.caseImage(hit!.imageId, 1024), 'full');
      expect(Math.max(full.width, full.height)).toBe(512);
      await expect(kb.caseImage(999_999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('rejects a query that is not an image with the reason', async () => {
      await expect(kb.searchCases(join(medpix!, 'README.md'), 3)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/expected a PNG or JPEG image/),
      });
      await expect(kb.searchCases(join(dir, 'missing.png'), 3)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/ENOENT/),
      });
    });
  },
);

describe.skipIf(!covid)('covid-chestxray subset (JPEG and PNG, serial images per patient)', () => {
  it('groups images by patient and keeps per-image licenses', async () => {
    const dir = mkdtempSync(join(scratch, 'covid-'));
    const db = openStore(join(dir, 'kb.sqlite'));
    try {
      const kb = new KnowledgeService(db);
      const summary = await kb.ingestCases(covid!);
      expect(summary.cases.filter((c) => c.status === 'failed')).toEqual([]);
      expect(summary.imagesAdded).toBe(43);
      const stats = kb.stats();
      expect(stats.cases).toBeLessThan(43);
      const [hit] = await kb.searchCases(join(covid!, 'images/pneumocystis-pneumonia-1.jpg'), 1, {
        distinctCases: false,
      });
      expect(hit!.score).toBeCloseTo(1, 5);
      expect(hit!.diagnosis).toMatch(/Pneumocystis/);
      expect(hit!.license).toMatch(/^CC BY/);
    } finally {
      db.close();
    }
  });
});

describe('generic cases.jsonl corpus', () => {
  it('ingests cases from a cases.jsonl with relative image paths; a broken image fails its case alone', async () => {
    const dir = mkdtempSync(join(scratch, 'generic-'));
    const folder = join(dir, 'corpus');
    mkdirSync(join(folder, 'img'), { recursive: true });
    writeFileSync(
      join(folder, 'img', 'a.png'),
      syntheticPng(64, 64, (x, y) => (x + y) * 2),
    );
    writeFileSync(join(folder, 'img', 'b.png'), 'not a png');
    writeFileSync(
      join(folder, 'cases.jsonl'),
      [
        {
          id: 'c1',
          title: 'Gradient',
          diagnosis: 'Normal',
          history: 'None',
          images: [{ path: 'img/a.png', modality: 'CT' }],
        },
        { id: 'c2', title: 'Broken', images: ['img/b.png'] },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    const db = openStore(join(dir, 'kb.sqlite'));
    try {
      const kb = new KnowledgeService(db);
      const summary = await kb.ingestCases(folder);
      expect(summary.cases.map((c) => [c.caseId, c.status, c.error?.code ?? null])).toEqual([
        ['c1', 'ingested', null],
        ['c2', 'failed', 'INVALID_INPUT'],
      ]);
      const [hit] = await kb.searchCases(join(folder, 'img', 'a.png'));
      expect(hit).toMatchObject({
        title: 'Gradient',
        diagnosis: 'Normal',
        modality: 'CT',
        consultation: 'History: None\nDiagnosis: Normal',
      });
      await expect(kb.ingestCases(join(dir, 'nothing-here'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      db.close();
    }
  });
});
