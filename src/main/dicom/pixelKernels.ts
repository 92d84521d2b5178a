/**
 * The per-pixel loops of decoding and windowing, written once per typed-array kind on purpose: V8 keeps type feedback
 * per function, so one loop that sees Int16Array, Uint16Array and Uint8Array frames turns megamorphic and runs
 * several times slower on every frame after that (measured: ~3.5× on a 512² slice). Each exported function dispatches
 * on the array kind to a loop that only ever sees that kind; anything else takes the generic loop.
 */
import type { GrayValues } from './decodeFrame';

export interface ValueRange {
  min: number;
  max: number;
}

function emptyOr(range: ValueRange, length: number): ValueRange {
  return length === 0 ? { min: 0, max: 0 } : range;
}

function rangeI16(values: Int16Array): ValueRange {
  let min = 32767;
  let max = -32768;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

function rangeU16(values: Uint16Array): ValueRange {
  let min = 65535;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

function rangeU8(values: Uint8Array): ValueRange {
  let min = 255;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

function rangeAny(values: GrayValues): ValueRange {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

/** The smallest and largest value of a frame ({0, 0} when empty). */
export function valueRange(values: GrayValues): ValueRange {
  if (values instanceof Int16Array) return rangeI16(values);
  if (values instanceof Uint16Array) return rangeU16(values);
  if (values instanceof Uint8Array) return rangeU8(values);
  return rangeAny(values);
}

/** The bits a sample keeps: `bits` wide from bit `shift` up, two's complement when `signed`. */
export interface StoredBits {
  shift: number;
  bits: number;
  signed: boolean;
}

function maskI16(values: Int16Array, shift: number, mask: number, signBit: number, signed: boolean): ValueRange {
  let min = 32767;
  let max = -32768;
  for (let i = 0; i < values.length; i++) {
    let v = (values[i]! >>> shift) & mask;
    if (signed && v >= signBit) v -= signBit * 2;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

function maskU16(values: Uint16Array, shift: number, mask: number): ValueRange {
  let min = 65535;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = (values[i]! >>> shift) & mask;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

function maskAny(values: GrayValues, shift: number, mask: number, signBit: number, signed: boolean): ValueRange {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    let v = (values[i]! >>> shift) & mask;
    if (signed && v >= signBit) v -= signBit * 2;
    values[i] = v;
    v = values[i]!; // as stored: an unsigned container keeps a negative result's bit pattern
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return emptyOr({ min, max }, values.length);
}

/**
 * Keeps `bits` bits from bit `shift` of every sample (in place), sign-extends them when signed, and returns the
 * resulting range — one pass for what the decoder needs and what windowing needs next.
 */
export function keepStoredBits(values: GrayValues, stored: StoredBits): ValueRange {
  const mask = stored.bits >= 32 ? 0xffffffff : (1 << stored.bits) - 1;
  const signBit = 2 ** (stored.bits - 1);
  if (values instanceof Int16Array) return maskI16(values, stored.shift, mask, signBit, stored.signed);
  if (values instanceof Uint16Array && !stored.signed) return maskU16(values, stored.shift, mask);
  return maskAny(values, stored.shift, mask, signBit, stored.signed);
}

function lutI16(values: Int16Array, lut: Uint8Array, offset: number, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i]! - offset]!;
}

function lutU16(values: Uint16Array, lut: Uint8Array, offset: number, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i]! - offset]!;
}

function lutU8(values: Uint8Array, lut: Uint8Array, offset: number, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i]! - offset]!;
}

function lutAny(values: GrayValues, lut: Uint8Array, offset: number, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i]! - offset]!;
}

/** out[i] = lut[values[i] − offset]; every value must lie in offset … offset + lut.length − 1. */
export function applyLut(values: GrayValues, lut: Uint8Array, offset: number, out: Uint8Array): void {
  if (values instanceof Int16Array) lutI16(values, lut, offset, out);
  else if (values instanceof Uint16Array) lutU16(values, lut, offset, out);
  else if (values instanceof Uint8Array) lutU8(values, lut, offset, out);
  else lutAny(values, lut, offset, out);
}

function rescaleI16(values: Int16Array, slope: number, intercept: number, out: Float32Array): void {
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * slope + intercept;
}

function rescaleU16(values: Uint16Array, slope: number, intercept: number, out: Float32Array): void {
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * slope + intercept;
}

function rescaleU8(values: Uint8Array, slope: number, intercept: number, out: Float32Array): void {
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * slope + intercept;
}

function rescaleAny(values: GrayValues, slope: number, intercept: number, out: Float32Array): void {
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * slope + intercept;
}

/** out[i] = values[i] × slope + intercept (as Float32). */
export function rescaleInto(values: GrayValues, slope: number, intercept: number, out: Float32Array): void {
  if (values instanceof Int16Array) rescaleI16(values, slope, intercept, out);
  else if (values instanceof Uint16Array) rescaleU16(values, slope, intercept, out);
  else if (values instanceof Uint8Array) rescaleU8(values, slope, intercept, out);
  else rescaleAny(values, slope, intercept, out);
}
