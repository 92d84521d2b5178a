/**
 * Studies benchmarks (`npm run bench -- dicom [--quick]`; DICOM_BENCH=import for the import tables alone):
 * - header-only import throughput against a raw read of the same files (goal ≥ 50 %);
 * - decode + window of a 512² 16-bit CT slice (goal ≤ 5 ms) and of a 512² JPEG 2000 (goal ≤ 30 ms);
 * - JPEG 2000 thumbnails and model images from reduced-resolution decodes against the full-resolution path;
 * - time to first image of the 11-slice CT series.
 * Ratios are taken in the same run; all reads are warm (page cache), as both sides of a ratio are.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFrameImage, frameBitmap } from '../../src/main/dicom/frameImage';
import { DicomError } from '../../src/main/dicom/dicomErrors';
import { parseDicom, parseDicomBytes, readDicomHeader } from '../../src/main/dicom/readDicom';
import { encodePng, fitSize, resize } from '../../src/main/dicom/renderPng';
import { EventBus } from '../../src/main/ipc/EventBus';
import { RunRegistry } from '../../src/main/runs/RunRegistry';
import { openStore } from '../../src/main/store/openStore';
import { InlinePixelExecutor, type PixelExecutor } from '../../src/main/studies/pixels/PixelExecutor';
import { PixelPool } from '../../src/main/studies/pixels/PixelPool';
import { StudiesService } from '../../src/main/studies/StudiesService';
import type { BenchContext, BenchSuite, BenchTable } from '../BenchContext';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function isDicom(path: string): boolean {
  const head = readFileSync(path).subarray(128, 132);
  return head.toString('latin1') === 'DICM';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function freshService(workDir: string, pixels?: PixelExecutor): { studies: StudiesService; close(): void } {
  const dir = mkdtempSync(join(workDir, 'dicom-'));
  const db = openStore(join(dir, 'store.sqlite'));
  const bus = new EventBus();
  const studies = new StudiesService({ db, runs: new RunRegistry(bus), bus }, pixels ? { pixels } : {});
  return {
    studies,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Timing {
  ms: number;
  cpuMs: number;
}

function isTiming(value: unknown): value is Timing {
  return typeof value === 'object' && value !== null && 'ms' in value && 'cpuMs' in value;
}

/**
 * Wall and process CPU time (all threads) of one async step; a step that returns a Timing reports that instead (the
 * span it measured itself, without its setup).
 */
async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const own = await work();
  if (isTiming(own)) return own;
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function importThroughput(context: BenchContext, files: string[]): Promise<BenchTable> {
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const rounds = context.quick ? 3 : 7;
  const defaultSize = Math.max(1, availableParallelism() - 1);
  const pools = [...new Set([defaultSize, 2])].map((size) => ({ size, pool: new PixelPool({ size }) }));
  // An import step times only the import: the fresh store it writes into (created per round, so that nothing is
  // already present) is opened and closed outside the measured span, as the app's store is open before any import.
  const steps: { key: string; label: string; run: () => Promise<unknown> }[] = [
    {
      key: 'raw',
      label: 'raw file read (fs.readFile, whole files, one after another)',
      run: async () => {
        for (const file of files) await readFile(file);
      },
    },
    {
      key: 'headers',
      label: 'header-only parse (readDicomHeader, one after another)',
      run: async () => {
        for (const file of files) await readDicomHeader(file);
      },
    },
    {
      key: 'inline',
      label: 'import, headers parsed inline on the calling thread (CLI)',
      run: async () => {
        const { studies, close } = freshService(context.workDir);
        const timing = await timed(() => studies.importNow(files));
        close();
        return timing;
      },
    },
    ...pools.map(({ size, pool }) => ({
      key: `pool${size}`,
      label: `import through the pixel pool, ${size} worker${size > 1 ? 's' : ''}${size === defaultSize ? ' (the app: cores − 1)' : ''}`,
      run: async () => {
        const { studies, close } = freshService(context.workDir, pool);
        const timing = await timed(() => studies.importNow(files));
        close();
        return timing;
      },
    })),
  ];
  const samples = new Map<string, { ms: number; cpuMs: number }[]>(steps.map((s) => [s.key, []]));
  try {
    for (let round = 0; round < rounds + 1; round++) {
      for (const step of steps) {
        const sample = await timed(step.run);
        if (round > 0) samples.get(step.key)!.push(sample); // round 0 warms page cache, JIT, WASM, workers
      }
    }
  } finally {
    await Promise.all(pools.map(({ pool }) => pool.close()));
  }
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
  const rawMs = median(samples.get('raw')!.map((s) => s.ms));
  return {
    title: `Header-only import vs raw read (${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, median of ${rounds})`,
    columns: ['path', 'ms', 'CPU ms', 'MB/s of files', 'files/s', 'throughput vs raw read'],
    rows: steps.map(({ key, label }) => {
      const ms = median(samples.get(key)!.map((s) => s.ms));
      return [
        label,
        ms,
        median(samples.get(key)!.map((s) => s.cpuMs)),
        mbps(ms),
        files.length / (ms / 1000),
        `${((rawMs / ms) * 100).toFixed(0)} %`,
      ];
    }),
    notes: [
      'Goal: import ≥ 50 % of raw-read throughput. Import reads only the head of each file (64 KiB; the whole file for small ones); raw read reads every byte.',
      'Headers are read by the direct reader of the mapped elements (dcmjs where it cannot: see the next table); the pool reads them in its workers, 16 files per message, while the main thread indexes. Store creation is outside the measured span.',
      `Machine: ${cpus().length} cores; CPU ms is process CPU time (all threads) over the step; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} when the table was made.`,
    ],
  };
}

/**
 * The header parse alone, in memory, over the same 64 KiB heads: the direct reader of the mapped elements against
 * dcmjs reading the same elements (the path it replaced, and the one it falls back to).
 */
function headerParsers(context: BenchContext, files: string[]): BenchTable {
  const rounds = context.quick ? 5 : 15;
  const heads = files.map((file) => new Uint8Array(readFileSync(file)).subarray(0, 64 * 1024));
  const parseAll = (dcmjsOnly: boolean): void => {
    for (const head of heads) {
      try {
        parseDicom(head, { headerOnly: true, dcmjsOnly });
      } catch (error) {
        // a head cut inside the header: the import reads more; both sides pay the same attempt
        if (!(error instanceof DicomError)) throw error;
      }
    }
  };
  const direct: number[] = [];
  const dcmjs: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    let t = performance.now();
    parseAll(false);
    const directMs = performance.now() - t;
    t = performance.now();
    parseAll(true);
    const dcmjsMs = performance.now() - t;
    if (round === 0) continue;
    direct.push(directMs);
    dcmjs.push(dcmjsMs);
  }
  const directMs = median(direct);
  const dcmjsMs = median(dcmjs);
  return {
    title: `Header parse in memory: direct reader vs dcmjs (${files.length} heads of ≤ 64 KiB, median of ${rounds})`,
    columns: ['parser', 'ms', 'µs per file', 'speed-up'],
    rows: [
      [
        'dcmjs, mapped elements only (the path before; still the fallback)',
        dcmjsMs,
        (dcmjsMs / files.length) * 1000,
        '1.0×',
      ],
      [
        'direct reader of the mapped elements (readMappedElements)',
        directMs,
        (directMs / files.length) * 1000,
        `${(dcmjsMs / directMs).toFixed(1)}×`,
      ],
    ],
    notes: [
      'Both build the same typed modules (a test compares them on every file); the direct reader leaves UN sequences, other character sets and malformed headers to dcmjs.',
    ],
  };
}

async function decodeTiming(
  context: BenchContext,
  label: string,
  path: string,
  goalMs: number,
): Promise<(string | number)[][]> {
  const iterations = context.quick ? 10 : 40;
  const bytes = new Uint8Array(readFileSync(path));
  const window = { center: 40, width: 400 };
  const full: number[] = [];
  const cached: number[] = [];
  const parsedOnce = parseDicomBytes(bytes);
  for (let i = 0; i < iterations + 3; i++) {
    let t = performance.now();
    const parsed = parseDicomBytes(bytes);
    const image = await decodeFrameImage(parsed, 0);
    frameBitmap(image, window);
    const fullMs = performance.now() - t;
    t = performance.now();
    frameBitmap(await decodeFrameImage(parsedOnce, 0), window);
    const cachedMs = performance.now() - t;
    if (i < 3) continue;
    full.push(fullMs);
    cached.push(cachedMs);
  }
  return [
    [
      `${label}: parse + decode + rescale + window`,
      Math.min(...full),
      median(full),
      percentile(full, 0.9),
      `≤ ${goalMs}`,
    ],
    [
      `${label}: decode + rescale + window (parsed file cached)`,
      Math.min(...cached),
      median(cached),
      percentile(cached, 0.9),
      `≤ ${goalMs}`,
    ],
  ];
}

/** What the machine does with the same bytes at memory speed: a copy of one 512² 16-bit frame (a scale for the rows above). */
function copyReference(context: BenchContext): (string | number)[] {
  const frame = new Int16Array(512 * 512).map((_, i) => (i * 7919) % 4096);
  const times: number[] = [];
  for (let i = 0; i < (context.quick ? 20 : 80); i++) {
    const t = performance.now();
    frame.slice();
    times.push(performance.now() - t);
  }
  return [
    'reference: copy of the 512 KiB frame (memory speed on this machine)',
    Math.min(...times),
    median(times),
    percentile(times, 0.9),
    '—',
  ];
}

/**
 * How long a call arriving on the main thread (an IPC request, say) waits while a viewer frame decodes: inline, it
 * waits for the whole decode; through the pool, only for the message round trip. Also the frame's own latency.
 */
async function mainThreadStall(context: BenchContext, paths: string[]): Promise<BenchTable> {
  const rounds = context.quick ? 4 : 12;
  const pool = new PixelPool();
  const executors: [string, PixelExecutor][] = [
    ['inline (the old path: decode on the main thread)', new InlinePixelExecutor()],
    [`pixel pool (${pool.size} worker${pool.size > 1 ? 's' : ''})`, pool],
  ];
  const rows: (string | number)[][] = [];
  try {
    for (const path of paths) {
      for (const [label, executor] of executors) {
        const stalls: number[] = [];
        const frames: number[] = [];
        for (let i = 0; i < rounds + 1; i++) {
          const args = { source: { kind: 'dicom' as const, path }, frame: 0, withModality: true };
          const t = performance.now();
          const decoding = executor.run('decode', args, { priority: 'interactive' });
          // A call that arrives right after the frame request: when does this thread get to it?
          const stall = await new Promise<number>((done) => setImmediate(() => done(performance.now() - t)));
          await decoding;
          if (i === 0) continue; // warm-up: parsed-file caches, codecs, worker start
          stalls.push(stall);
          frames.push(performance.now() - t);
        }
        rows.push([path.split('/').pop()!, label, median(stalls), Math.max(...stalls), median(frames)]);
      }
    }
  } finally {
    await pool.close();
  }
  return {
    title: `Main-thread stall while a viewer frame decodes (parsed file cached; median of ${rounds})`,
    columns: ['file', 'where it decodes', 'stall median ms', 'stall max ms', 'frame ready median ms'],
    rows,
    notes: [
      'stall = delay before the main thread runs a callback queued just after the frame request (what an IPC reply would wait).',
      'frame ready includes the Float32 modality values the viewer is sent; through the pool the typed arrays are transferred, not copied.',
    ],
  };
}

/**
 * Thumbnail / model-image rendering of JPEG 2000 (decode, window, area resize, PNG): full-resolution decode (the old
 * path, and what the viewer still gets) against the reduced-resolution decode the studies service now uses.
 */
async function reducedJpeg2000(
  context: BenchContext,
  cases: { label: string; path: string; size: number }[],
): Promise<BenchTable> {
  const rounds = context.quick ? 3 : 9;
  const rows: (string | number)[][] = [];
  for (const { label, path, size } of cases) {
    const parsed = parseDicomBytes(new Uint8Array(readFileSync(path)));
    const render = async (
      maxSide: number | undefined,
    ): Promise<{ decodeMs: number; totalMs: number; side: number }> => {
      const t = performance.now();
      const image = await decodeFrameImage(parsed, 0, path, { maxSide });
      const decodeMs = performance.now() - t;
      const { bitmap } = frameBitmap(image, null);
      const fit = fitSize(bitmap.width, bitmap.height, size, image.pixelSpacing);
      encodePng(resize(bitmap, fit.width, fit.height));
      return { decodeMs, totalMs: performance.now() - t, side: Math.max(image.rows, image.columns) };
    };
    const full: { decodeMs: number; totalMs: number; side: number }[] = [];
    const reduced: typeof full = [];
    for (let i = 0; i < rounds + 1; i++) {
      const a = await render(undefined);
      const b = await render(size);
      if (i === 0) continue;
      full.push(a);
      reduced.push(b);
    }
    const med = (list: typeof full, key: 'decodeMs' | 'totalMs'): number => median(list.map((r) => r[key]));
    rows.push([
      label,
      `${full[0]!.side} → ${reduced[0]!.side}`,
      med(full, 'decodeMs'),
      med(reduced, 'decodeMs'),
      med(full, 'totalMs'),
      med(reduced, 'totalMs'),
      `${(med(full, 'totalMs') / med(reduced, 'totalMs')).toFixed(1)}×`,
    ]);
  }
  return {
    title: `JPEG 2000 thumbnails and model images: full vs reduced-resolution decode (median of ${rounds}, same run)`,
    columns: [
      'case',
      'decoded side',
      'decode full ms',
      'decode reduced ms',
      'render full ms',
      'render reduced ms',
      'speed-up',
    ],
    rows,
    notes: [
      'render = decode + window + area resize + PNG. The reduced decode stops at the smallest JPEG 2000 resolution level still ≥ the target side.',
      'The viewer keeps full resolution; the full-resolution decode is bounded by OpenJPEG’s single-threaded tier-1 (code-block) decoding in WASM.',
    ],
  };
}

async function firstImage(context: BenchContext, folder: string): Promise<BenchTable> {
  const rounds = context.quick ? 2 : 5;
  const rows: number[][] = [];
  for (let round = 0; round < rounds + 1; round++) {
    const { studies, close } = freshService(context.workDir);
    const t0 = performance.now();
    await studies.importNow([folder]);
    const imported = performance.now();
    const study = studies.list()[0]!;
    const series = studies.series({ studyInstanceUid: study.studyInstanceUid })[0]!;
    const first = studies.instances({ seriesInstanceUid: series.seriesInstanceUid })[0]!;
    await studies.frame({ sopInstanceUid: first.sopInstanceUid, frame: 0 });
    const shown = performance.now();
    close();
    if (round > 0) rows.push([imported - t0, shown - imported, shown - t0]);
  }
  const column = (i: number): number => median(rows.map((r) => r[i]!));
  return {
    title: `Time to first image: the 11-slice CT series (512², median of ${rounds})`,
    columns: ['step', 'ms'],
    rows: [
      ['import the folder (headers, index, order, warnings)', column(0)],
      ['list → series → instances → first frame as FramePixels', column(1)],
      ['total: folder chosen → first image ready', column(2)],
    ],
  };
}

export const dicomSuite: BenchSuite = async (context) => {
  const tables: BenchTable[] = [];
  const dicomRoot = context.sharedDir ? join(context.sharedDir, 'data/dicom') : null;
  if (!dicomRoot) {
    context.log('../shared is absent: measuring the bundled sample studies only');
    const samples = walk(join(import.meta.dirname, '../../resources/sample-studies')).filter(isDicom);
    tables.push(await importThroughput(context, samples));
    return tables;
  }
  const files = walk(dicomRoot).filter(isDicom);
  context.log(`import throughput over ${files.length} files`);
  tables.push(await importThroughput(context, files));
  tables.push(headerParsers(context, files));
  // DICOM_BENCH=import measures only the two tables above.
  if (process.env['DICOM_BENCH'] === 'import') return tables;

  context.log('decode + window timings');
  const rows = [
    ...(await decodeTiming(
      context,
      'CT 512² 16-bit, Implicit VR LE (dcmqi 01.dcm)',
      join(dicomRoot, 'dcmqi_ct_3slice/01.dcm'),
      5,
    )),
    ...(await decodeTiming(
      context,
      'CT 512² 16-bit, Explicit VR LE (693_UNCI)',
      join(dicomRoot, 'pydicom_data/693_UNCI.dcm'),
      5,
    )),
    ...(await decodeTiming(
      context,
      'CT 512² JPEG 2000 lossless (693_J2KR)',
      join(dicomRoot, 'pydicom_data/693_J2KR.dcm'),
      30,
    )),
    ...(await decodeTiming(
      context,
      'CT 512² JPEG 2000 lossless (explicit_VR-UN)',
      join(dicomRoot, 'pydicom_data/explicit_VR-UN.dcm'),
      30,
    )),
  ];
  rows.push(copyReference(context));
  tables.push({
    title: 'Decode + window to 8-bit (soft-tissue window), single thread',
    columns: ['case', 'min ms', 'median ms', 'p90 ms', 'goal ms'],
    rows,
    notes: [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} while measuring (min ≈ the unloaded cost).`,
      'JPEG 2000 goes through @cornerstonejs/codec-openjpeg (WASM, no SIMD build); the viewer caches parsed files and decoded frames.',
    ],
  });

  context.log('main-thread stall while frames decode');
  tables.push(
    await mainThreadStall(context, [
      join(dicomRoot, 'pydicom_data/693_J2KR.dcm'),
      join(dicomRoot, 'pydicom_data/explicit_VR-UN.dcm'),
      join(dicomRoot, 'dcmqi_ct_3slice/01.dcm'),
    ]),
  );

  context.log('JPEG 2000 thumbnails and model images');
  tables.push(
    await reducedJpeg2000(context, [
      { label: '693_J2KR 512² CT → thumbnail 128', path: join(dicomRoot, 'pydicom_data/693_J2KR.dcm'), size: 128 },
      { label: 'RG3_J2KR 1760² CR → model image 512', path: join(dicomRoot, 'pydicom_data/RG3_J2KR.dcm'), size: 512 },
      { label: 'RG3_J2KR 1760² CR → thumbnail 128', path: join(dicomRoot, 'pydicom_data/RG3_J2KR.dcm'), size: 128 },
    ]),
  );

  context.log('time to first image');
  tables.push(await firstImage(context, join(dicomRoot, 'dicom_numpy_ct_series')));
  return tables;
};
