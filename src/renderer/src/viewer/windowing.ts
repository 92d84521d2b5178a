/**
 * Client-side window/level for the viewer. A frame's modality values are quantised once into indices of a lookup
 * table; each W/L change rebuilds only the table (≤ 65,536 entries) and maps the indices to packed RGBA words, so a
 * 512² frame re-windows in about a millisecond on the main thread — smooth at 60 fps while right-dragging.
 */

export interface WindowLevel {
  center: number;
  width: number;
}

export interface WindowPreset extends WindowLevel {
  key: string;
  name: string;
}

/** OHIF's CT presets on the number keys. */
export const windowPresets: readonly WindowPreset[] = [
  { key: '1', name: 'Soft tissue', width: 400, center: 40 },
  { key: '2', name: 'Lung', width: 1500, center: -600 },
  { key: '3', name: 'Liver', width: 150, center: 90 },
  { key: '4', name: 'Bone', width: 2500, center: 480 },
  { key: '5', name: 'Brain', width: 80, center: 40 },
];

const maxLutSize = 65536;
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs an 8-bit gray value into one RGBA pixel word as the platform stores ImageData. */
function packGray(value: number): number {
  return littleEndian
    ? (0xff000000 | (value << 16) | (value << 8) | value) >>> 0
    : ((value << 24) | (value << 16) | (value << 8) | 0xff) >>> 0;
}

function packRgb(r: number, g: number, b: number): number {
  return littleEndian ? (0xff000000 | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 0xff) >>> 0;
}

/**
 * The DICOM linear VOI function (PS3.3 C.11.2.1.2.1) mapped to 0…255. Width is clamped to ≥ 1 as the standard
 * requires.
 */
export function voiLinear(value: number, window: WindowLevel): number {
  const width = Math.max(1, window.width);
  const low = window.center - 0.5 - (width - 1) / 2;
  const high = window.center - 0.5 + (width - 1) / 2;
  if (value <= low) return 0;
  if (value > high) return 255;
  return Math.round(((value - (window.center - 0.5)) / (width - 1 || 1) + 0.5) * 255);
}

export interface FrameData {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  pixels: Float32Array | Uint8Array;
  minValue: number;
  maxValue: number;
}

/** Renders one frame's pixels to packed RGBA words for any window, reusing its precomputed quantisation. */
export class FrameWindowing {
  readonly pixelCount: number;
  readonly #frame: FrameData;
  readonly #indices: Uint16Array | null;
  readonly #lutValues: Float64Array | null;
  readonly #lut: Uint32Array;
  /** Whether the quantisation is exact (integer values within the LUT size), for the tests and diagnostics. */
  readonly exact: boolean;

  constructor(frame: FrameData) {
    this.#frame = frame;
    this.pixelCount = frame.rows * frame.columns;
    if (frame.samplesPerPixel === 3) {
      this.#indices = null;
      this.#lutValues = null;
      this.#lut = new Uint32Array(256);
      this.exact = true;
      return;
    }
    const pixels = frame.pixels;
    const min = Number.isFinite(frame.minValue) ? frame.minValue : 0;
    const max = Number.isFinite(frame.maxValue) && frame.maxValue > min ? frame.maxValue : min + 1;
    let integral = Number.isInteger(min) && max - min + 1 <= maxLutSize;
    if (integral) {
      for (let i = 0; i < pixels.length; i++) {
        if (!Number.isInteger(pixels[i])) {
          integral = false;
          break;
        }
      }
    }
    this.exact = integral;
    const size = integral ? max - min + 1 : maxLutSize;
    const step = integral ? 1 : (max - min) / (maxLutSize - 1);
    const indices = new Uint16Array(this.pixelCount);
    const last = size - 1;
    for (let i = 0; i < indices.length; i++) {
      const index = Math.round((pixels[i]! - min) / step);
      indices[i] = index < 0 ? 0 : index > last ? last : index;
    }
    const values = new Float64Array(size);
    for (let i = 0; i < size; i++) values[i] = min + i * step;
    this.#indices = indices;
    this.#lutValues = values;
    this.#lut = new Uint32Array(size);
  }

  /** Writes `rows × columns` packed RGBA words into `out` (e.g. a Uint32Array view of ImageData). */
  render(window: WindowLevel, invert: boolean, out: Uint32Array): void {
    const lut = this.#lut;
    if (this.#indices && this.#lutValues) {
      const values = this.#lutValues;
      for (let i = 0; i < values.length; i++) {
        const v = voiLinear(values[i]!, window);
        lut[i] = packGray(invert ? 255 - v : v);
      }
      const indices = this.#indices;
      for (let i = 0; i < indices.length; i++) out[i] = lut[indices[i]!]!;
      return;
    }
    // Colour: the same VOI per channel over the 256 byte values.
    const channel = new Uint8Array(256);
    for (let i = 0; i < 256; i++) {
      const v = voiLinear(i, window);
      channel[i] = invert ? 255 - v : v;
    }
    const rgb = this.#frame.pixels;
    for (let i = 0, j = 0; i < this.pixelCount; i++, j += 3) {
      out[i] = packRgb(channel[rgb[j]!]!, channel[rgb[j + 1]!]!, channel[rgb[j + 2]!]!);
    }
  }
}

/** Right-drag sensitivity: one screen pixel moves W/L by about 1/512 of the frame's value range (at least 1). */
export function dragSensitivity(minValue: number, maxValue: number): number {
  return Math.max(0.5, (maxValue - minValue) / 512);
}

/** Applies a mouse drag to a window: horizontal = width, vertical = level (OHIF/Weasis convention). */
export function dragWindow(start: WindowLevel, dx: number, dy: number, sensitivity: number): WindowLevel {
  return {
    width: Math.max(1, start.width + dx * sensitivity),
    center: start.center + dy * sensitivity,
  };
}

export function formatWindow(window: WindowLevel): string {
  return `W ${Math.round(window.width)} / L ${Math.round(window.center)}`;
}
