/**
 * Bounded fuzzing of the parser and decoders with mutated real files: every outcome must be a decoded frame or an
 * error with a stable code — no crash, no hang, no unhandled rejection — and the direct header reader must agree with
 * dcmjs on every mutated header.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors/AppError';
import { decodeFrame } from './decodeFrame';
import { Tag } from './dicomTags';
import { parseDicom } from './readDicom';
import { comparable } from './testing/realDicomFiles';

const root = resolve(import.meta.dirname, '../../..');
const shared = resolve(root, '../shared/data/dicom');
const seeds = [
  join(root, 'resources/sample-studies/pydicom/CT_small.dcm'),
  join(root, 'resources/sample-studies/pydicom/MR_small.dcm'),
  join(root, 'resources/sample-studies/pydicom/reportsi.dcm'),
  join(root, 'resources/sample-studies/pydicom-data/emri_small_jpeg_ls_lossless.dcm'),
  join(root, 'resources/sample-studies/highdicom/dx_image.dcm'),
  join(root, 'tests/fixtures/dicom/MR_small_RLE.dcm'),
  join(root, 'tests/fixtures/dicom/MR_small_jp2klossless.dcm'),
  join(root, 'tests/fixtures/dicom/MR_small_bigendian.dcm'),
  join(root, 'tests/fixtures/dicom/JPGExtended.dcm'),
  ...['pydicom_data/JPEG-LL.dcm', 'pydicom_dicomdirtests/DICOMDIR', 'pydicom_data/eCT_Supplemental.dcm']
    .map((p) => join(shared, p))
    .filter(existsSync),
];

const budgetMs = 12_000;
const knownCodes = new Set([
  'NOT_DICOM',
  'DICOM_TRUNCATED',
  'DICOM_MALFORMED',
  'NO_PIXEL_DATA',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_PIXEL_FORMAT',
  'PIXEL_DATA_TRUNCATED',
  'DECODE_FAILED',
  'FRAME_OUT_OF_RANGE',
]);

/** Deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(source: Uint8Array, random: () => number): Uint8Array {
  const bytes = new Uint8Array(source);
  const pick = (limit: number): number => Math.floor(random() * limit);
  switch (pick(5)) {
    case 0: // flip bytes in the header region, where tags, VRs and lengths live
      for (let i = 0, n = 1 + pick(8); i < n; i++) bytes[132 + pick(Math.min(bytes.length - 132, 4096))] = pick(256);
      return bytes;
    case 1: // truncate anywhere
      return bytes.subarray(0, pick(bytes.length));
    case 2: {
      // overwrite a 4-byte length with a huge or odd value
      const at = 132 + pick(Math.min(bytes.length - 136, 4096));
      new DataView(bytes.buffer).setUint32(at, [0xffffffff, 0x7fffffff, 0x10001, pick(2 ** 32)][pick(4)]!, true);
      return bytes;
    }
    case 3: // corrupt the pixel data / codestream tail
      for (let i = 0, n = 1 + pick(64); i < n; i++)
        bytes[bytes.length - 1 - pick(Math.min(bytes.length, 20_000))] = pick(256);
      return bytes;
    default: {
      // splice a chunk of the file into another place
      const from = pick(bytes.length);
      const to = pick(bytes.length);
      const length = pick(512);
      bytes.copyWithin(to, from, from + length);
      return bytes;
    }
  }
}

/** A header-only read's modules (and whether Pixel Data was reached) or its error code, as one comparable string. */
function headerOutcome(bytes: Uint8Array, dcmjsOnly: boolean): string {
  try {
    const parsed = parseDicom(bytes, { headerOnly: true, dcmjsOnly });
    return `${comparable(parsed.modules)} pixel data ${parsed.dataset[Tag.PixelData] !== undefined}`;
  } catch (error) {
    return error instanceof AppError ? error.code : `uncoded ${String(error)}`;
  }
}

describe('parser and decoder fuzzing (bounded)', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  it(
    `survives mutated real files for ${budgetMs / 1000} s with coded errors only`,
    { timeout: budgetMs + 60_000 },
    async () => {
      const inputs = seeds.map((path) => new Uint8Array(readFileSync(path)));
      const seed = Number(process.env['DICOM_FUZZ_SEED'] ?? 20_261_122);
      const random = prng(seed);
      const started = Date.now();
      const outcomes = new Map<string, number>();
      const disagreements: string[] = [];
      let iterations = 0;
      while (Date.now() - started < budgetMs) {
        const input = inputs[iterations % inputs.length]!;
        const mutated = mutate(input, random);
        iterations++;
        let code = 'decoded';
        const headerOnly = iterations % 4 === 0;
        // Header-only reads: the direct reader and dcmjs agree on the modules or the error, mutation or not.
        if (headerOnly) {
          const direct = headerOutcome(mutated, false);
          const dcmjs = headerOutcome(mutated, true);
          if (direct !== dcmjs)
            disagreements.push(`iteration ${iterations}: direct ${direct.slice(0, 80)}, dcmjs ${dcmjs.slice(0, 80)}`);
        }
        try {
          const parsed = parseDicom(mutated, { headerOnly });
          if (!parsed.pixelDataRead) {
            code = 'header-only';
          } else {
            const frames = parsed.modules.imagePixel?.numberOfFrames ?? 1;
            await decodeFrame(parsed, Math.min(frames - 1, iterations % 3));
          }
        } catch (error) {
          if (!(error instanceof AppError) || !knownCodes.has(error.code)) {
            throw new Error(`seed ${seed}, iteration ${iterations}: expected a coded error, found ${String(error)}`, {
              cause: error,
            });
          }
          code = error.code;
        }
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
      expect(disagreements, `seed ${seed}`).toEqual([]);
      expect(iterations).toBeGreaterThan(100);
      // The mutations exercise both the happy path and several failure paths.
      expect(outcomes.size).toBeGreaterThanOrEqual(4);
    },
  );
});
