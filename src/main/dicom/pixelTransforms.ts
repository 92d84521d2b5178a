/**
 * Modality LUT (rescale), VOI LUT functions (PS3.3 C.11.2.1.2) and MONOCHROME1 inversion, from stored values to
 * display bytes. The viewer windows on the GPU/canvas; these are for model images, thumbnails and benchmarks.
 */
import type { VoiFunction } from './dicomModules';
import type { GrayValues } from './decodeFrame';
import { applyLut, rescaleInto, valueRange, type ValueRange } from './pixelKernels';

export interface Rescale {
  slope: number;
  intercept: number;
}

export interface Window {
  center: number;
  width: number;
}

export interface NamedWindow extends Window {
  name: string;
}

/** OHIF's CT presets (window width / level). */
export const windowPresets: readonly NamedWindow[] = [
  { name: 'Soft tissue', width: 400, center: 40 },
  { name: 'Lung', width: 1500, center: -600 },
  { name: 'Liver', width: 150, center: 90 },
  { name: 'Bone', width: 2500, center: 480 },
  { name: 'Brain', width: 80, center: 40 },
];

export interface ModalityFrame {
  values: Float32Array;
  min: number;
  max: number;
}

/**
 * Applies RescaleSlope/RescaleIntercept: stored values → modality values (e.g. Hounsfield units). The range comes
 * from the stored range (the map is monotonic), so there is one pass over the pixels.
 */
export function applyModalityLut(
  values: GrayValues,
  slope: number,
  intercept: number,
  range: ValueRange = valueRange(values),
): ModalityFrame {
  const out = new Float32Array(values.length);
  rescaleInto(values, slope, intercept, out);
  if (values.length === 0) return { values: out, min: 0, max: 0 };
  const a = range.min * slope + intercept;
  const b = range.max * slope + intercept;
  // Float32 rounding, as the values themselves: the reported range never lies outside them.
  return { values: out, min: Math.fround(Math.min(a, b)), max: Math.fround(Math.max(a, b)) };
}

/** A window spanning the data, for images whose header names none. */
export function windowFromRange(min: number, max: number): Window {
  const width = Math.max(1, max - min);
  return { center: min + width / 2, width };
}

/**
 * The VOI function (LINEAR as PS3.3 C.11.2.1.2.1; LINEAR_EXACT; SIGMOID) for one modality value, to 0…255, inverted
 * for MONOCHROME1 so that the output always reads "higher is brighter".
 */
export function voiMapper(window: Window, fn: VoiFunction = 'LINEAR', invert = false): (x: number) => number {
  const c = window.center;
  const w = Math.max(fn === 'LINEAR' ? 1 : Number.MIN_VALUE, window.width);
  if (fn === 'SIGMOID') {
    return (x) => {
      const y = Math.round(255 / (1 + Math.exp((-4 * (x - c)) / w)));
      return invert ? 255 - y : y;
    };
  }
  let low: number;
  let high: number;
  let scale: number;
  let offset: number;
  if (fn === 'LINEAR_EXACT') {
    low = c - w / 2;
    high = c + w / 2;
    scale = 255 / w;
    offset = (w / 2 - c) * scale;
  } else {
    low = c - 0.5 - (w - 1) / 2;
    high = c - 0.5 + (w - 1) / 2;
    scale = w > 1 ? 255 / (w - 1) : 255;
    offset = (-(c - 0.5) / (w > 1 ? w - 1 : 1) + 0.5) * 255;
  }
  return (x) => {
    let y = x <= low ? 0 : x > high ? 255 : x * scale + offset + 0.5;
    y = y < 0 ? 0 : y > 255 ? 255 : y | 0;
    return invert ? 255 - y : y;
  };
}

/** Maps modality values through a VOI function to display bytes. */
export function applyVoi(values: Float32Array, window: Window, fn: VoiFunction = 'LINEAR', invert = false): Uint8Array {
  const map = voiMapper(window, fn, invert);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = map(values[i]!);
  return out;
}

/** The smallest and largest stored value of a frame. */
export function storedRange(values: GrayValues): ValueRange {
  return valueRange(values);
}

const maxLutEntries = 1 << 20;

/**
 * Stored values → display bytes in one pass: rescale and VOI are folded into a lookup table over the stored range
 * (integers from 8/16-bit data), so each pixel costs one table read.
 */
export function applyStoredVoi(
  values: GrayValues,
  range: { min: number; max: number },
  rescale: Rescale,
  window: Window,
  fn: VoiFunction = 'LINEAR',
  invert = false,
): Uint8Array {
  const map = voiMapper(window, fn, invert);
  const out = new Uint8Array(values.length);
  const size = range.max - range.min + 1;
  if (size > maxLutEntries) {
    for (let i = 0; i < values.length; i++) out[i] = map(values[i]! * rescale.slope + rescale.intercept);
    return out;
  }
  const lut = new Uint8Array(size);
  for (let v = 0; v < size; v++) lut[v] = map((v + range.min) * rescale.slope + rescale.intercept);
  applyLut(values, lut, range.min, out);
  return out;
}
