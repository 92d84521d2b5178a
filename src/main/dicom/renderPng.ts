import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

interface PngWriter {
  sync: {
    write(
      png: { width: number; height: number; data: Uint8Array },
      options: { colorType: 0 | 2; inputColorType: 0 | 2; inputHasAlpha: false; deflateLevel: number; bitDepth: 8 },
    ): Buffer;
  };
}

const nodeRequire = createRequire(import.meta.url);
const { PNG } = nodeRequire('pngjs') as { PNG: PngWriter };

/** 8-bit pixels ready to encode: 1 channel (gray) or 3 (RGB, interleaved). */
export interface Bitmap {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export interface EncodedPng {
  png: Uint8Array;
  sha256: string;
  width: number;
  height: number;
}

/**
 * The output size for an image shown at its physical aspect ratio (pixel spacing, when rows and columns are not
 * square) with the longest side at most `maxSize`. Images are never enlarged beyond their largest native side.
 */
export function fitSize(
  columns: number,
  rows: number,
  maxSize: number,
  pixelSpacing: [number, number] | null = null,
): { width: number; height: number } {
  let aspect = columns / rows;
  if (pixelSpacing) {
    const [rowSpacing, columnSpacing] = pixelSpacing;
    const physical = (columns * columnSpacing) / (rows * rowSpacing);
    if (Number.isFinite(physical) && physical > 0 && Math.abs(physical / aspect - 1) > 0.01) aspect = physical;
  }
  const longest = Math.min(Math.max(1, Math.floor(maxSize)), Math.max(columns, rows));
  return aspect >= 1
    ? { width: longest, height: Math.max(1, Math.round(longest / aspect)) }
    : { width: Math.max(1, Math.round(longest * aspect)), height: longest };
}

/** For each output pixel along one axis: the source pixels it covers and how much of each (area weights). */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** `count[o]` weights per output pixel, starting at `offset[o]`. */
  offset: Int32Array;
  weights: Float64Array;
  totals: Float64Array;
}

function axisWeights(source: number, target: number): AxisWeights {
  const scale = source / target;
  const first = new Int32Array(target);
  const count = new Int32Array(target);
  const offset = new Int32Array(target);
  const totals = new Float64Array(target);
  const weights: number[] = [];
  for (let o = 0; o < target; o++) {
    const a = o * scale;
    const b = Math.max(a + 1e-9, (o + 1) * scale);
    const from = Math.floor(a);
    const to = Math.min(source, Math.ceil(b));
    first[o] = from;
    offset[o] = weights.length;
    for (let p = from; p < to; p++) {
      const w = Math.min(b, p + 1) - Math.max(a, p);
      weights.push(w > 0 ? w : 0);
      totals[o]! += w > 0 ? w : 0;
    }
    count[o] = to - from;
  }
  return { first, count, offset, weights: Float64Array.from(weights), totals };
}

/**
 * Resamples with area averaging (each output pixel is the mean of the source area it covers), which keeps fine
 * structures honest when downscaling; enlarging a dimension falls back to the nearest source pixel. Separable: rows
 * first into a Float64 buffer, then columns, so a 1760² → 512² model image costs two 1-D passes, not a 2-D sum per
 * output pixel.
 */
export function resize(bitmap: Bitmap, width: number, height: number): Bitmap {
  if (width === bitmap.width && height === bitmap.height) return bitmap;
  const { channels, data } = bitmap;
  const xs = axisWeights(bitmap.width, width);
  const ys = axisWeights(bitmap.height, height);
  // Horizontal pass: every source row → `width` weighted sums (not yet divided).
  const rows = new Float64Array(bitmap.height * width * channels);
  if (channels === 1) horizontalGray(data, bitmap.width, bitmap.height, xs, width, rows);
  else
    for (let y = 0; y < bitmap.height; y++) {
      const sourceRow = y * bitmap.width * channels;
      const targetRow = y * width * channels;
      for (let x = 0; x < width; x++) {
        const n = xs.count[x]!;
        const w0 = xs.offset[x]!;
        const p0 = sourceRow + xs.first[x]! * channels;
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let k = 0; k < n; k++) sum += data[p0 + k * channels + c]! * xs.weights[w0 + k]!;
          rows[targetRow + x * channels + c] = sum;
        }
      }
    }
  // Vertical pass, then the mean over the covered area (the product of the two axes' totals).
  const out = new Uint8Array(width * height * channels);
  const stride = width * channels;
  for (let y = 0; y < height; y++) {
    const n = ys.count[y]!;
    const w0 = ys.offset[y]!;
    const r0 = ys.first[y]! * stride;
    const target = y * stride;
    const totalY = ys.totals[y]!;
    for (let x = 0; x < width; x++) {
      const area = xs.totals[x]! * totalY || 1;
      for (let c = 0; c < channels; c++) {
        const column = x * channels + c;
        let sum = 0;
        for (let k = 0; k < n; k++) sum += rows[r0 + k * stride + column]! * ys.weights[w0 + k]!;
        out[target + column] = Math.round(sum / area);
      }
    }
  }
  return { width, height, channels, data: out };
}

/** The horizontal pass for one channel (most model images): no per-channel loop in the innermost code. */
function horizontalGray(
  data: Uint8Array,
  sourceWidth: number,
  sourceHeight: number,
  xs: AxisWeights,
  width: number,
  rows: Float64Array,
): void {
  const { first, count, offset, weights } = xs;
  for (let y = 0; y < sourceHeight; y++) {
    const sourceRow = y * sourceWidth;
    const targetRow = y * width;
    for (let x = 0; x < width; x++) {
      const n = count[x]!;
      const w0 = offset[x]!;
      const p0 = sourceRow + first[x]!;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += data[p0 + k]! * weights[w0 + k]!;
      rows[targetRow + x] = sum;
    }
  }
}

/** Encodes 8-bit gray or RGB as PNG with fixed settings (same pixels → same bytes → same sha256). */
export function encodePng(bitmap: Bitmap): EncodedPng {
  const colorType = bitmap.channels === 1 ? 0 : 2;
  const png = PNG.sync.write(
    { width: bitmap.width, height: bitmap.height, data: bitmap.data },
    { colorType, inputColorType: colorType, inputHasAlpha: false, deflateLevel: 6, bitDepth: 8 },
  );
  const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  return {
    png: bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    width: bitmap.width,
    height: bitmap.height,
  };
}
