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

/**
 * Resamples with area averaging (each output pixel is the mean of the source area it covers), which keeps fine
 * structures honest when downscaling; enlarging a dimension falls back to the nearest source pixel.
 */
export function resize(bitmap: Bitmap, width: number, height: number): Bitmap {
  if (width === bitmap.width && height === bitmap.height) return bitmap;
  const { channels, data } = bitmap;
  const out = new Uint8Array(width * height * channels);
  const sx = bitmap.width / width;
  const sy = bitmap.height / height;
  const sums = new Float64Array(channels);
  for (let y = 0; y < height; y++) {
    const y0 = y * sy;
    const y1 = Math.max(y0 + 1e-9, (y + 1) * sy);
    for (let x = 0; x < width; x++) {
      const x0 = x * sx;
      const x1 = Math.max(x0 + 1e-9, (x + 1) * sx);
      sums.fill(0);
      let area = 0;
      for (let py = Math.floor(y0); py < Math.min(bitmap.height, Math.ceil(y1)); py++) {
        const wy = Math.min(y1, py + 1) - Math.max(y0, py);
        if (wy <= 0) continue;
        for (let px = Math.floor(x0); px < Math.min(bitmap.width, Math.ceil(x1)); px++) {
          const wx = Math.min(x1, px + 1) - Math.max(x0, px);
          if (wx <= 0) continue;
          const weight = wx * wy;
          const base = (py * bitmap.width + px) * channels;
          for (let c = 0; c < channels; c++) sums[c]! += data[base + c]! * weight;
          area += weight;
        }
      }
      const target = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) out[target + c] = Math.round(sums[c]! / (area || 1));
    }
  }
  return { width, height, channels, data: out };
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
