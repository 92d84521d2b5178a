/**
 * The pixel pool against the inline executor: the same frames, renders and header records through worker threads
 * (transferred typed arrays) as on the calling thread, for every transfer syntax of the shared tree and the bundled
 * fixtures; cancellation of queued and running tasks; a crashed worker named and replaced; and the main thread free
 * while a worker decodes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDicomBytes } from '../../dicom/readDicom';
import { undisplayableReason } from '../../dicom/decodeFrame';
import { InlinePixelExecutor } from './PixelExecutor';
import { PixelPool } from './PixelPool';
import type { FramePayload } from './pixelTasks';

const root = resolve(import.meta.dirname, '../../../..');
const dicomRoot = resolve(root, '../shared/data/dicom');
const haveShared = existsSync(join(dicomRoot, 'SOURCE.txt'));
if (!haveShared)
  console.warn(`pixel pool: the shared DICOM tree (${dicomRoot}) is absent; testing the bundled files only`);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const dicomFiles = [
  ...walk(join(root, 'resources/sample-studies')),
  ...walk(join(root, 'tests/fixtures/dicom')),
  ...(haveShared ? walk(dicomRoot) : []),
].filter((f) => readFileSync(f).subarray(128, 132).toString('latin1') === 'DICM');

/** Typed arrays compared by kind and bytes (fast for 512² frames), everything else by value. */
function expectSamePayload(actual: FramePayload, expected: FramePayload, what: string): void {
  const bytes = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const split = (p: FramePayload): { arrays: ArrayBufferView[]; rest: unknown } => {
    if (p.kind === 'rgb') return { arrays: [p.rgb], rest: { ...p, rgb: null } };
    const { stored, modality, ...rest } = p;
    return {
      arrays: [stored, ...(modality ? [modality.values] : [])],
      rest: { ...rest, modality: modality ? { min: modality.min, max: modality.max } : null },
    };
  };
  const a = split(actual);
  const b = split(expected);
  expect(a.rest, what).toEqual(b.rest);
  expect(
    a.arrays.map((v) => v.constructor.name),
    what,
  ).toEqual(b.arrays.map((v) => v.constructor.name));
  a.arrays.forEach((view, i) => expect(bytes(view).equals(bytes(b.arrays[i]!)), what).toBe(true));
}

describe('pixel pool (worker threads) against inline decoding', () => {
  const pool = new PixelPool({ size: 2 });
  const inline = new InlinePixelExecutor();

  afterAll(() => pool.close());

  it(
    'decodes the first and last frame of every displayable file identically, for every transfer syntax present',
    { timeout: 180_000 },
    async () => {
      const syntaxes = new Set<string>();
      const covered = new Set<string>();
      for (const path of dicomFiles) {
        const parsed = parseDicomBytes(new Uint8Array(readFileSync(path)), path);
        if (parsed.modules.fileMeta.mediaStorageSopClassUid === '1.2.840.10008.1.3.10') continue; // DICOMDIR
        const syntax = parsed.modules.fileMeta.transferSyntaxUid;
        if (undisplayableReason(parsed)) {
          // Named reasons cross the thread boundary with their code.
          const args = { source: { kind: 'dicom' as const, path }, frame: 0, withModality: true };
          const [inlineError, pooledError] = await Promise.all(
            [inline, pool].map((executor) =>
              executor.run('decode', args, { priority: 'interactive' }).catch((e: { code: string }) => e.code),
            ),
          );
          expect(pooledError, path).toBe(inlineError);
          continue;
        }
        syntaxes.add(syntax);
        const frames = parsed.modules.imagePixel!.numberOfFrames;
        for (const frame of new Set([0, frames - 1])) {
          const args = { source: { kind: 'dicom' as const, path }, frame, withModality: true };
          const [here, there] = await Promise.all([
            inline.run('decode', args, { priority: 'interactive' }),
            pool.run('decode', args, { priority: 'interactive' }),
          ]);
          expectSamePayload(there, here, `${path} frame ${frame}`);
        }
        covered.add(syntax);
      }
      expect([...covered].sort()).toEqual([...syntaxes].sort());
      // Native LE/BE, RLE, JPEG baseline/extended/lossless, JPEG-LS and JPEG 2000 in the bundled files alone.
      expect(covered.size).toBeGreaterThanOrEqual(haveShared ? 10 : 6);
    },
  );

  it('renders the same PNG bytes (reduced JPEG 2000 decodes included) and reads the same header records', async () => {
    const renders = dicomFiles.filter((f) =>
      /CT_small|MR_small_jp2klossless|examples_ybr_color|693_J2KR|RG1_J2KI/.test(f),
    );
    expect(renders.length).toBeGreaterThanOrEqual(3);
    for (const path of renders) {
      for (const maxSize of [16, 128]) {
        const args = { source: { kind: 'dicom' as const, path }, frame: 0, window: null, maxSize, reduce: true };
        const [here, there] = await Promise.all([
          inline.run('render', args, { priority: 'background' }),
          pool.run('render', args, { priority: 'background' }),
        ]);
        expect(there.sha256, `${path} @${maxSize}`).toBe(here.sha256);
        expect(Buffer.from(there.png).equals(Buffer.from(here.png))).toBe(true);
      }
    }
    for (const path of dicomFiles) {
      const [here, there] = await Promise.all([
        inline.run('header', { path }, { priority: 'bulk' }).catch((e: { code: string }) => e.code),
        pool.run('header', { path }, { priority: 'bulk' }).catch((e: { code: string }) => e.code),
      ]);
      expect(there, path).toEqual(here);
    }
    // The same files as one batch: per-file outcomes, failures included, in order.
    const files = [...dicomFiles, join(root, 'README.md')].map((path) => ({ path }));
    const [here, there] = await Promise.all([
      inline.run('headers', { files }, { priority: 'bulk' }),
      pool.run('headers', { files }, { priority: 'bulk' }),
    ]);
    expect(there).toEqual(here);
    expect(there.at(-1)).toMatchObject({ ok: false, error: { code: 'NOT_DICOM' } });
    expect(there.filter((o) => o.ok).length).toBeGreaterThan(dicomFiles.length / 2);
  });

  it('keeps the main thread free while a worker decodes (inline, the decode holds it)', async () => {
    // A long decode (the 1760² JPEG 2000 CR, ~0.4 s, when ../shared is here) leaves no doubt about the order. A 64²
    // one can finish while this thread is still reading the worker's earlier answer (Node drains every message that
    // has arrived by then), when a loaded machine pauses it there: CI saw that once.
    const path =
      dicomFiles.find((f) => f.endsWith('RG3_J2KR.dcm')) ??
      dicomFiles.find((f) => f.endsWith('MR_small_jp2klossless.dcm'))!;
    const args = { source: { kind: 'dicom' as const, path }, frame: 0, withModality: true };
    const order = async (executor: PixelPool | InlinePixelExecutor): Promise<string[]> => {
      await executor.run('decode', args, { priority: 'interactive' }); // file parsed and cached, codec loaded
      const seen: string[] = [];
      const decoding = executor.run('decode', args, { priority: 'interactive' }).then(() => seen.push('decoded'));
      // Work queued on this thread after the request (an IPC reply, say).
      await new Promise<void>((done) => setImmediate(() => (seen.push('main thread'), done())));
      await decoding;
      return seen;
    };
    expect(await order(pool)).toEqual(['main thread', 'decoded']);
    expect(await order(inline)).toEqual(['decoded', 'main thread']);
  });
});

describe('pixel pool cancellation and failures', () => {
  it('rejects a cancelled queued task and a cancelled running one at once, and keeps serving', async () => {
    const pool = new PixelPool({ size: 1 });
    try {
      const path = join(root, 'tests/fixtures/dicom/MR_small_jp2klossless.dcm');
      const args = { source: { kind: 'dicom' as const, path }, frame: 0, withModality: true };
      const running = new AbortController();
      const queued = new AbortController();
      const first = pool.run('decode', args, { priority: 'interactive', signal: running.signal });
      const second = pool.run('decode', args, { priority: 'interactive', signal: queued.signal });
      const third = pool.run('decode', args, { priority: 'interactive' });
      expect(pool.load).toMatchObject({ queued: 2, running: 1 });
      queued.abort();
      await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(pool.load.queued).toBe(1);
      running.abort();
      await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
      const result = await third;
      expect([result.rows, result.columns]).toEqual([64, 64]);
      const already = new AbortController();
      already.abort();
      await expect(pool.run('decode', args, { priority: 'interactive', signal: already.signal })).rejects.toMatchObject(
        {
          code: 'CANCELLED',
        },
      );
    } finally {
      await pool.close();
    }
  });

  it('serves interactive frames before queued bulk work', async () => {
    const pool = new PixelPool({ size: 1 });
    try {
      const path = join(root, 'tests/fixtures/dicom/MR_small_RLE.dcm');
      const done: string[] = [];
      const tasks = [
        ...Array.from({ length: 4 }, (_, i) =>
          pool.run('header', { path }, { priority: 'bulk' }).then(() => done.push(`bulk ${i}`)),
        ),
        pool
          .run(
            'decode',
            { source: { kind: 'dicom', path }, frame: 0, withModality: false },
            { priority: 'interactive' },
          )
          .then(() => done.push('frame')),
      ];
      await Promise.all(tasks);
      // At most the two bulk reads already handed to the worker finish first.
      expect(done.indexOf('frame')).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });

  it('fails the tasks of a worker that dies with PIXEL_WORKER_FAILED and replaces it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medrwr-pool-'));
    // A worker entry that answers once, then exits mid-task the second time (as a codec crash would).
    const entry = join(dir, 'dyingWorker.mjs');
    writeFileSync(
      entry,
      `import { parentPort } from 'node:worker_threads';
let calls = 0;
parentPort.on('message', (m) => {
  if (m.type !== 'task') return;
  if (++calls === 2) process.exit(3);
  parentPort.postMessage({ type: 'result', id: m.id, ok: true, result: { calls } });
});`,
    );
    const pool = new PixelPool({ size: 1, entry });
    try {
      const args = { path: 'unused' };
      expect(await pool.run('header', args, { priority: 'bulk' })).toEqual({ calls: 1 });
      await expect(pool.run('header', args, { priority: 'bulk' })).rejects.toMatchObject({
        code: 'PIXEL_WORKER_FAILED',
        message: expect.stringContaining('exited with code 3'),
      });
      expect(await pool.run('header', args, { priority: 'bulk' })).toEqual({ calls: 1 }); // a fresh worker
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses work once closed', async () => {
    const pool = new PixelPool({ size: 1 });
    await pool.close();
    await expect(pool.run('header', { path: 'x' }, { priority: 'bulk' })).rejects.toMatchObject({
      code: 'NOT_AVAILABLE',
    });
  });
});

describe('studies service through the pool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-pool-service-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports, serves frames, thumbnails and model images exactly as inline', async () => {
    const { openStore } = await import('../../store/openStore');
    const { EventBus } = await import('../../ipc/EventBus');
    const { RunRegistry } = await import('../../runs/RunRegistry');
    const { StudiesService } = await import('../StudiesService');
    const pool = new PixelPool({ size: 2 });
    const make = (name: string, pixels?: PixelPool) => {
      const db = openStore(join(dir, `${name}.sqlite`));
      const bus = new EventBus();
      return { db, studies: new StudiesService({ db, runs: new RunRegistry(bus), bus }, pixels ? { pixels } : {}) };
    };
    const pooled = make('pooled', pool);
    const plain = make('plain');
    try {
      const folders = [join(root, 'resources/sample-studies'), join(root, 'tests/fixtures/dicom')];
      const a = await pooled.studies.importNow(folders);
      const b = await plain.studies.importNow(folders);
      expect(a).toEqual(b);
      for (const study of plain.studies.list()) {
        for (const series of plain.studies.series({ studyInstanceUid: study.studyInstanceUid })) {
          if (series.isReport) continue;
          const thumbs = await Promise.all(
            [pooled, plain].map((s) =>
              s.studies.thumbnail({ seriesInstanceUid: series.seriesInstanceUid, maxSize: 64 }),
            ),
          );
          expect(Buffer.from(thumbs[0]!).equals(Buffer.from(thumbs[1]!)), series.description).toBe(true);
          const instance = plain.studies.instances({ seriesInstanceUid: series.seriesInstanceUid })[0]!;
          const request = { sopInstanceUid: instance.sopInstanceUid, frame: 0 };
          const [p, q] = await Promise.all([pooled.studies.frame(request), plain.studies.frame(request)]);
          expect({ ...p, pixels: Array.from(p.pixels) }).toEqual({ ...q, pixels: Array.from(q.pixels) });
          const model = { ...request, window: null };
          const [m, n] = await Promise.all([
            pooled.studies.renderModelImage(model),
            plain.studies.renderModelImage(model),
          ]);
          expect(m.sha256).toBe(n.sha256);
        }
      }
      // A plain PNG as an image study and as a model image, through the pool and inline.
      const ct = plain.studies.list({ modality: 'CT' })[0]!;
      const ctSeries = plain.studies.series({ studyInstanceUid: ct.studyInstanceUid })[0]!;
      const ctInstance = plain.studies.instances({ seriesInstanceUid: ctSeries.seriesInstanceUid })[0]!;
      const png = await plain.studies.renderModelImage({
        sopInstanceUid: ctInstance.sopInstanceUid,
        frame: 0,
        window: null,
      });
      const pngPath = join(dir, 'case.png');
      writeFileSync(pngPath, png.png);
      const [fromPool, fromInline] = await Promise.all([
        pooled.studies.imageStudyPng({ path: pngPath }),
        plain.studies.imageStudyPng({ path: pngPath }),
      ]);
      expect(fromPool.sha256).toBe(fromInline.sha256);
      expect(fromPool.sha256).toBe(png.sha256); // an 8-bit gray PNG round-trips to the same bytes
      await pooled.studies.importNow([pngPath]);
      const image = pooled.studies.list().find((s) => s.kind === 'image')!;
      const imageSeries = pooled.studies.series({ studyInstanceUid: image.studyInstanceUid })[0]!;
      const imageInstance = pooled.studies.instances({ seriesInstanceUid: imageSeries.seriesInstanceUid })[0]!;
      const frame = await pooled.studies.frame({ sopInstanceUid: imageInstance.sopInstanceUid, frame: 0 });
      expect(frame).toMatchObject({ rows: png.height, columns: png.width, samplesPerPixel: 1 });
      await expect(pooled.studies.imageStudyPng({ path: join(dir, 'missing.png') })).rejects.toMatchObject({
        code: 'FILE_MISSING',
      });
    } finally {
      pooled.db.close();
      plain.db.close();
      await pool.close();
    }
  });
});
