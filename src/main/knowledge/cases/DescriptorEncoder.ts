import { resizeArea, toGray, type DecodedImage } from './decodeImage';
import type { ImageEncoder } from './ImageEncoder';

const size = 64;

/**
 * The built-in, model-free image descriptor: the image is converted to gray, cropped to its content (dark borders
 * and letterboxing removed), contrast-stretched between its 1st and 99th percentiles and resampled to 64×64; then
 * - intensity layout at two scales (4×4 and 8×8 block means, centred),
 * - a 16-bin intensity histogram,
 * - gradient-orientation histograms (8 unsigned orientations, magnitude-weighted; HOG-like) on a 4×4 grid at 64×64
 *   and on a 2×2 grid at 32×32,
 * each block square-rooted where it is a histogram (Hellinger), L2-normalised and weighted, then the whole vector is
 * L2-normalised. It captures modality, body region, plane and gross appearance — not pathology — which is what
 * makes cases of the same kind of study retrievable without a learned encoder.
 */
export class DescriptorEncoder implements ImageEncoder {
  readonly id = 'intensity-gradient-descriptor/1';
  readonly dimensions = 16 + 64 + 16 + 128 + 32;

  encode(image: DecodedImage): Float32Array {
    const normalized = normalizeImage(image);
    const half = resizeArea(normalized, size, size, size / 2, size / 2);
    const blocks: [Float32Array, number][] = [
      [centred(resizeArea(normalized, size, size, 4, 4)), 1.0],
      [centred(resizeArea(normalized, size, size, 8, 8)), 1.0],
      [hellinger(intensityHistogram(normalized, 16)), 0.8],
      [hellinger(orientationHistograms(normalized, size, 4, 8)), 1.2],
      [hellinger(orientationHistograms(half, size / 2, 2, 8)), 0.8],
    ];
    const out = new Float32Array(this.dimensions);
    let offset = 0;
    for (const [block, weight] of blocks) {
      l2(block);
      for (let i = 0; i < block.length; i++) out[offset + i] = block[i]! * weight;
      offset += block.length;
    }
    return l2(out);
  }
}

/** Gray, cropped to content, percentile-stretched, 64×64. */
export function normalizeImage(image: DecodedImage): Float32Array {
  const gray = toGray(image);
  const { width, height } = image;
  const crop = contentBox(gray, width, height);
  const cropped = new Float32Array(crop.w * crop.h);
  for (let y = 0; y < crop.h; y++) {
    cropped.set(gray.subarray((crop.y + y) * width + crop.x, (crop.y + y) * width + crop.x + crop.w), y * crop.w);
  }
  const small = resizeArea(cropped, crop.w, crop.h, size, size);
  const sorted = Float32Array.from(small).sort();
  const lo = sorted[Math.floor(sorted.length * 0.01)]!;
  const hi = sorted[Math.floor(sorted.length * 0.99)]!;
  const range = hi - lo > 1e-6 ? hi - lo : 1;
  for (let i = 0; i < small.length; i++) small[i] = Math.min(1, Math.max(0, (small[i]! - lo) / range));
  return small;
}

/** Bounding box of rows/columns whose mean exceeds 6% of the brightest row/column mean (drops black borders). */
function contentBox(gray: Float32Array, width: number, height: number): { x: number; y: number; w: number; h: number } {
  const rows = new Float64Array(height);
  const cols = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = gray[y * width + x]!;
      rows[y]! += v;
      cols[x]! += v;
    }
  }
  const span = (sums: Float64Array, count: number): [number, number] => {
    let max = 0;
    for (const s of sums) max = Math.max(max, s / count);
    const threshold = max * 0.06;
    let a = 0;
    let b = sums.length - 1;
    while (a < b && sums[a]! / count <= threshold) a++;
    while (b > a && sums[b]! / count <= threshold) b--;
    return b - a + 1 >= Math.max(8, sums.length / 4) ? [a, b] : [0, sums.length - 1];
  };
  const [y0, y1] = span(rows, width);
  const [x0, x1] = span(cols, height);
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function intensityHistogram(image: Float32Array, bins: number): Float32Array {
  const histogram = new Float32Array(bins);
  for (const v of image) histogram[Math.min(bins - 1, Math.floor(v * bins))]!++;
  return histogram;
}

/** Magnitude-weighted unsigned orientation histograms (central differences) on a grid × grid layout of cells. */
function orientationHistograms(image: Float32Array, side: number, grid: number, bins: number): Float32Array {
  const out = new Float32Array(grid * grid * bins);
  const cell = side / grid;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const gx = image[y * side + x + 1]! - image[y * side + x - 1]!;
      const gy = image[(y + 1) * side + x]! - image[(y - 1) * side + x]!;
      const magnitude = Math.hypot(gx, gy);
      if (magnitude === 0) continue;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      const position = (angle / Math.PI) * bins - 0.5;
      const lower = Math.floor(position);
      const fraction = position - lower;
      const base = (Math.min(grid - 1, Math.floor(y / cell)) * grid + Math.min(grid - 1, Math.floor(x / cell))) * bins;
      out[base + ((lower + bins) % bins)]! += magnitude * (1 - fraction);
      out[base + ((lower + 1) % bins)]! += magnitude * fraction;
    }
  }
  return out;
}

function centred(values: Float32Array): Float32Array {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  for (let i = 0; i < values.length; i++) values[i]! -= mean;
  return values;
}

function hellinger(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = Math.sqrt(values[i]!);
  return values;
}

function l2(values: Float32Array): Float32Array {
  let norm = 0;
  for (const v of values) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < values.length; i++) values[i]! /= norm;
  return values;
}
