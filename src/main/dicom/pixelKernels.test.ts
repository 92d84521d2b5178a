import { describe, expect, it } from 'vitest';
import type { GrayValues } from './decodeFrame';
import { applyLut, keepStoredBits, rescaleInto, valueRange } from './pixelKernels';
import { applyModalityLut, applyStoredVoi, voiMapper } from './pixelTransforms';

const samples = [-32768, -1024, -1, 0, 1, 7, 255, 1023, 4095, 32767];

/** The same samples in every typed-array kind the decoder produces (wrapped as each kind stores them). */
function kinds(): GrayValues[] {
  return [
    Int16Array.from(samples),
    Uint16Array.from(samples),
    Uint8Array.from(samples),
    Int8Array.from(samples),
    Int32Array.from(samples),
    Uint32Array.from(samples.map((v) => v >>> 0)),
  ];
}

describe('pixel kernels (one loop per typed-array kind)', () => {
  it('finds the range of every kind, and {0, 0} for an empty frame', () => {
    for (const values of kinds()) {
      const list = Array.from(values);
      expect(valueRange(values), values.constructor.name).toEqual({ min: Math.min(...list), max: Math.max(...list) });
    }
    expect(valueRange(new Int16Array(0))).toEqual({ min: 0, max: 0 });
  });

  it('keeps BitsStored bits from HighBit down, sign-extends signed ones, and returns their range', () => {
    for (const values of kinds()) {
      for (const stored of [
        { shift: 0, bits: 12, signed: true },
        { shift: 0, bits: 12, signed: false },
        { shift: 2, bits: 10, signed: false },
        { shift: 4, bits: 8, signed: true },
      ]) {
        // The plain definition, stored back into the same kind (which wraps as the kernel's store does).
        const expected = values.slice();
        values.forEach((v, i) => {
          const bits = (v >>> stored.shift) & ((1 << stored.bits) - 1);
          expected[i] = stored.signed && bits >= 2 ** (stored.bits - 1) ? bits - 2 ** stored.bits : bits;
        });
        const copy = values.slice();
        const range = keepStoredBits(copy, stored);
        expect(Array.from(copy), `${values.constructor.name} ${JSON.stringify(stored)}`).toEqual(Array.from(expected));
        expect(range).toEqual({ min: Math.min(...Array.from(copy)), max: Math.max(...Array.from(copy)) });
      }
    }
  });

  it('applies a lookup table and a rescale to every kind like the plain definitions', () => {
    for (const values of kinds()) {
      const { min, max } = valueRange(values);
      if (max - min > 1 << 17) continue; // 32-bit containers: the windowing falls back to mapping per pixel
      const lut = Uint8Array.from({ length: max - min + 1 }, (_, i) => (i * 31) & 0xff);
      const out = new Uint8Array(values.length);
      applyLut(values, lut, min, out);
      expect(Array.from(out)).toEqual(Array.from(values, (v) => lut[v - min]));
      const hu = new Float32Array(values.length);
      rescaleInto(values, 0.5, -1024, hu);
      expect(Array.from(hu)).toEqual(Array.from(values, (v) => Math.fround(v * 0.5 - 1024)));
    }
  });

  it('windows stored values through the folded LUT exactly as rescale then VOI would', () => {
    const stored = Int16Array.from({ length: 5000 }, (_, i) => i - 1200);
    const rescale = { slope: 1, intercept: -1024 };
    const window = { center: 40, width: 400 };
    const map = voiMapper(window, 'LINEAR', false);
    const folded = applyStoredVoi(stored, valueRange(stored), rescale, window);
    expect(Array.from(folded)).toEqual(Array.from(stored, (v) => map(v * rescale.slope + rescale.intercept)));
    const modality = applyModalityLut(stored, 1, -1024);
    expect([modality.min, modality.max]).toEqual([-2224, 2775]);
    expect(applyModalityLut(stored, -2, 0)).toMatchObject({ min: -2 * 3799, max: 2400 });
  });
});
