import { describe, expect, it } from 'vitest';
import { dragWindow, FrameWindowing, voiLinear, windowPresets } from './windowing';

const gray = (word: number): number => word & 0xff;

describe('voiLinear (DICOM PS3.3 C.11.2.1.2.1)', () => {
  it('maps the window edges to black and white and the centre to mid-gray', () => {
    const window = { center: 40, width: 400 };
    expect(voiLinear(-1000, window)).toBe(0);
    expect(voiLinear(-160, window)).toBe(0);
    expect(voiLinear(3000, window)).toBe(255);
    expect(voiLinear(40, window)).toBeGreaterThanOrEqual(127);
    expect(voiLinear(40, window)).toBeLessThanOrEqual(128);
  });

  it('treats a width below 1 as 1 (a hard threshold)', () => {
    expect(voiLinear(9, { center: 10, width: 0 })).toBe(0);
    expect(voiLinear(11, { center: 10, width: 0 })).toBe(255);
  });
});

describe('FrameWindowing', () => {
  const frame = (values: number[]) => ({
    rows: 1,
    columns: values.length,
    samplesPerPixel: 1 as const,
    pixels: Float32Array.from(values),
    minValue: Math.min(...values),
    maxValue: Math.max(...values),
  });

  it('renders CT values exactly as voiLinear does, for every OHIF preset', () => {
    const values = [-1024, -600, -100, 0, 40, 90, 480, 1500, 3071];
    const windowing = new FrameWindowing(frame(values));
    expect(windowing.exact).toBe(true);
    const out = new Uint32Array(values.length);
    for (const preset of windowPresets) {
      windowing.render(preset, false, out);
      expect(Array.from(out, gray)).toEqual(values.map((v) => voiLinear(v, preset)));
    }
  });

  it('inverts and sets opaque alpha', () => {
    const windowing = new FrameWindowing(frame([0, 100]));
    const out = new Uint32Array(2);
    windowing.render({ center: 50, width: 100 }, true, out);
    expect(gray(out[0]!)).toBe(255);
    expect(gray(out[1]!)).toBe(0);
    expect(out[0]! >>> 24).toBe(0xff);
  });

  it('quantises non-integer data (e.g. PET, rescaled MR) within one LUT step', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i * 0.37 + 0.001);
    const windowing = new FrameWindowing(frame(values));
    expect(windowing.exact).toBe(false);
    const out = new Uint32Array(values.length);
    const window = { center: 150, width: 200 };
    windowing.render(window, false, out);
    values.forEach((v, i) => expect(Math.abs(gray(out[i]!) - voiLinear(v, window))).toBeLessThanOrEqual(1));
  });

  it('windows colour frames per channel', () => {
    const windowing = new FrameWindowing({
      rows: 1,
      columns: 2,
      samplesPerPixel: 3,
      pixels: Uint8Array.from([255, 0, 128, 10, 20, 30]),
      minValue: 0,
      maxValue: 255,
    });
    const out = new Uint32Array(2);
    windowing.render({ center: 128, width: 256 }, false, out);
    expect([out[0]! & 0xff, (out[0]! >> 8) & 0xff, (out[0]! >> 16) & 0xff]).toEqual([255, 0, 128]);
  });
});

describe('dragWindow', () => {
  it('widens with a rightward drag, raises the level with a downward drag, and never goes below width 1', () => {
    expect(dragWindow({ center: 40, width: 400 }, 10, 5, 2)).toEqual({ center: 50, width: 420 });
    expect(dragWindow({ center: 40, width: 10 }, -100, 0, 1).width).toBe(1);
  });
});
