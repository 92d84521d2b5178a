/**
 * Colour layouts none of the real test files carries (the app must still show them): planar RGB, native YBR_FULL and
 * PALETTE COLOR. The header of a real file is reused; only the pixel module and the pixel bytes are set.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './decodeFrame';
import type { ImagePixelModule } from './dicomModules';
import { pixelDataTag } from './dicomTags';
import { readDicomFile, type ParsedDicom } from './readDicom';

const root = resolve(import.meta.dirname, '../../..');

async function withPixels(pixel: Partial<ImagePixelModule>, bytes: number[]): Promise<ParsedDicom> {
  const parsed = await readDicomFile(join(root, 'resources/sample-studies/pydicom/CT_small.dcm'));
  const imagePixel: ImagePixelModule = {
    ...parsed.modules.imagePixel!,
    rows: 1,
    columns: 2,
    bitsAllocated: 8,
    bitsStored: 8,
    highBit: 7,
    pixelRepresentation: 0,
    numberOfFrames: 1,
    ...pixel,
  };
  return {
    ...parsed,
    modules: { ...parsed.modules, imagePixel },
    dataset: { ...parsed.dataset, [pixelDataTag]: { vr: 'OB', Value: [Uint8Array.from(bytes)] } },
  };
}

describe('colour pixel layouts', () => {
  it('interleaves planar RGB (PlanarConfiguration 1)', async () => {
    const parsed = await withPixels(
      { samplesPerPixel: 3, photometricInterpretation: 'RGB', planarConfiguration: 1 },
      [10, 20, 30, 40, 50, 60],
    );
    expect(await decodeFrame(parsed, 0)).toMatchObject({ kind: 'rgb', rgb: Uint8Array.from([10, 30, 50, 20, 40, 60]) });
  });

  it('converts native YBR_FULL to RGB', async () => {
    // Pure red and pure blue in YCbCr (JFIF full range).
    const parsed = await withPixels(
      { samplesPerPixel: 3, photometricInterpretation: 'YBR_FULL', planarConfiguration: 0 },
      [76, 85, 255, 29, 255, 107],
    );
    const decoded = await decodeFrame(parsed, 0);
    expect(decoded.kind).toBe('rgb');
    const rgb = [...(decoded as { rgb: Uint8Array }).rgb];
    expect(rgb[0]).toBeGreaterThan(250);
    expect(rgb[1]).toBeLessThan(5);
    expect(rgb[5]).toBeGreaterThan(250);
  });

  it('maps PALETTE COLOR through its 16-bit lookup tables', async () => {
    const lut = (values: number[]): Uint16Array => Uint16Array.from(values);
    const parsed = await withPixels(
      {
        samplesPerPixel: 1,
        photometricInterpretation: 'PALETTE COLOR',
        palette: {
          entries: 3,
          firstMapped: 1,
          bits: 16,
          red: lut([0, 0xff00, 0x1000]),
          green: lut([0xff00, 0, 0x2000]),
          blue: lut([0, 0, 0x3000]),
        },
      },
      [1, 7],
    );
    // 1 is the first mapped value; 7 is past the end and clamps to the last entry.
    expect(await decodeFrame(parsed, 0)).toMatchObject({ kind: 'rgb', rgb: Uint8Array.from([0, 255, 0, 16, 32, 48]) });
  });
});
