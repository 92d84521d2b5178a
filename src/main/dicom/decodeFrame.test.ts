import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRleFrame } from './codecs/rleDecoder';
import { jpeg2000DecompositionLevels } from './codecs/wasmCodecs';
import { pixelDataValue } from './dicomTags';
import { decodeFrame, type DecodedFrame } from './decodeFrame';
import { decodeFrameImage, frameBitmap } from './frameImage';
import { applyModalityLut, applyVoi } from './pixelTransforms';
import { parseDicom, readDicomFile } from './readDicom';
import { encodePng, fitSize, resize } from './renderPng';

const root = resolve(import.meta.dirname, '../../..');
const fixture = (name: string): string => join(root, 'tests/fixtures/dicom', name);
const sample = (name: string): string => join(root, 'resources/sample-studies', name);

async function gray(path: string, frame = 0): Promise<Extract<DecodedFrame, { kind: 'gray' }>> {
  const decoded = await decodeFrame(await readDicomFile(path), frame, path);
  if (decoded.kind !== 'gray') throw new Error(`${path}: expected grayscale`);
  return decoded;
}

describe('pixel decoding of real files', () => {
  it('decodes MR_small identically from explicit/implicit LE, big endian, RLE and JPEG 2000 lossless', async () => {
    const reference = await gray(sample('pydicom/MR_small.dcm'));
    expect(reference.values).toBeInstanceOf(Int16Array);
    expect([reference.rows, reference.columns]).toEqual([64, 64]);
    for (const variant of [
      'MR_small_implicit.dcm',
      'MR_small_bigendian.dcm',
      'MR_small_RLE.dcm',
      'MR_small_jp2klossless.dcm',
    ]) {
      const decoded = await gray(fixture(variant));
      expect(decoded.values, variant).toEqual(reference.values);
    }
  });

  it('decodes 12-bit JPEG Extended to the values pydicom documents for JPGExtended.dcm', async () => {
    const decoded = await gray(fixture('JPGExtended.dcm'));
    expect([decoded.rows, decoded.columns]).toEqual([1024, 256]);
    // pydicom's pixel reference JPGE_16_12_1_0_1F_M2: arr[420, 140] == 244, arr[230, 120] == 95.
    expect(decoded.values[420 * 256 + 140]).toBe(244);
    expect(decoded.values[230 * 256 + 120]).toBe(95);
  });

  it('decodes every frame of a JPEG-LS Enhanced MR and a JPEG Baseline colour cine', async () => {
    const parsed = await readDicomFile(sample('pydicom-data/emri_small_jpeg_ls_lossless.dcm'));
    expect(parsed.modules.imagePixel?.numberOfFrames).toBe(10);
    const first = await decodeFrame(parsed, 0);
    const last = await decodeFrame(parsed, 9);
    expect(first.kind === 'gray' && last.kind === 'gray' && first.values.length === 64 * 64).toBe(true);
    expect((first as { values: Uint16Array }).values).not.toEqual((last as { values: Uint16Array }).values);
    await expect(decodeFrame(parsed, 10)).rejects.toMatchObject({ code: 'FRAME_OUT_OF_RANGE' });

    const color = await readDicomFile(sample('pydicom/examples_ybr_color.dcm'));
    const frame = await decodeFrame(color, 29);
    expect(frame.kind).toBe('rgb');
    expect(frame.kind === 'rgb' && frame.rgb.length).toBe(320 * 240 * 3);
  });

  it('applies MONOCHROME1 inversion and the file window for the DX image', async () => {
    const image = await decodeFrameImage(await readDicomFile(sample('highdicom/dx_image.dcm')), 0);
    expect(image.kind).toBe('gray');
    if (image.kind !== 'gray') return;
    expect(image.invert).toBe(true);
    expect(image.defaultWindow).toEqual({ center: 128, width: 256 });
    const { bitmap } = frameBitmap(image, null);
    const brightest = image.modality.values.indexOf(image.modality.max);
    expect(bitmap.data[brightest]).toBeLessThan(10); // a high stored value shows dark
  });

  it('names why an SR cannot be shown', async () => {
    const parsed = await readDicomFile(fixture('test-SR.dcm'));
    expect(parsed.modules.sr?.documentTitle).toBe('Diagnosis');
    expect(parsed.modules.sr?.text).toContain('Text Code: A mass of');
    expect(parsed.modules.sr?.text).toContain('Diameter: 3 Length Unit');
    await expect(decodeFrame(parsed, 0)).rejects.toMatchObject({ code: 'NO_PIXEL_DATA' });
  });

  it('reports truncated pixel data and non-DICOM input with specific codes', async () => {
    const bytes = new Uint8Array(readFileSync(sample('pydicom/CT_small.dcm')));
    const truncated = parseDicom(bytes.subarray(0, bytes.length - 5000), { headerOnly: false });
    await expect(decodeFrame(truncated, 0)).rejects.toMatchObject({ code: 'PIXEL_DATA_TRUNCATED' });
    expect(() =>
      parseDicom(new TextEncoder().encode('MIT License\n\nPermission is hereby granted'), { headerOnly: true }),
    ).toThrow(expect.objectContaining({ code: 'NOT_DICOM' }));
  });

  it('reads a raw dataset without preamble as Implicit VR Little Endian', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('MR_small_implicit.dcm')));
    // Drop the preamble and the file meta group: what old CD writers produced.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const metaLength = view.getUint32(132 + 8, true);
    const raw = bytes.subarray(132 + 12 + metaLength);
    const parsed = parseDicom(raw, { headerOnly: false });
    expect(parsed.modules.fileMeta.hasPreamble).toBe(false);
    const decoded = await decodeFrame(parsed, 0);
    expect(decoded).toEqual(await decodeFrame(await readDicomFile(sample('pydicom/MR_small.dcm')), 0));
  });
});

describe('RLE decoder (PS3.5 Annex G)', () => {
  it('rejects a frame whose segment count does not match the pixel format', () => {
    const header = new Uint8Array(64);
    new DataView(header.buffer).setUint32(0, 3, true);
    expect(() => decodeRleFrame(header, { rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 16 })).toThrow(
      /expected 2 segments/,
    );
  });
});

describe('modality and VOI LUTs, PNG', () => {
  it('rescales to Hounsfield units and windows linearly as PS3.3 C.11.2.1.2.1', () => {
    const hu = applyModalityLut(Int16Array.from([0, 1024, 1064, 3000]), 1, -1024);
    expect([...hu.values]).toEqual([-1024, 0, 40, 1976]);
    expect([hu.min, hu.max]).toEqual([-1024, 1976]);
    expect([...applyVoi(hu.values, { center: 40, width: 400 })]).toEqual([0, 102, 128, 255]);
    expect([...applyVoi(hu.values, { center: 40, width: 400 }, 'LINEAR', true)]).toEqual([255, 153, 127, 0]);
  });

  it('keeps the physical aspect ratio, caps the longest side, and hashes the exact bytes', () => {
    expect(fitSize(1024, 256, 512)).toEqual({ width: 512, height: 128 });
    expect(fitSize(64, 64, 512)).toEqual({ width: 64, height: 64 });
    expect(fitSize(100, 100, 512, [2, 1])).toEqual({ width: 50, height: 100 });
    const bitmap = {
      width: 4,
      height: 2,
      channels: 1 as const,
      data: Uint8Array.from([0, 0, 255, 255, 0, 0, 255, 255]),
    };
    expect([...resize(bitmap, 2, 1).data]).toEqual([0, 255]);
    const a = encodePng(bitmap);
    const b = encodePng({ ...bitmap, data: Uint8Array.from(bitmap.data) });
    expect(a.sha256).toBe(b.sha256);
    expect([...a.png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });
});

describe('reduced-resolution JPEG 2000 decoding (thumbnails and model images)', () => {
  it('reads the decomposition levels and decodes 1/2^level of the frame, following the full frame', async () => {
    const parsed = await readDicomFile(fixture('MR_small_jp2klossless.dcm'));
    const codestream = new Uint8Array(pixelDataValue(parsed.dataset)!.parts[0] as ArrayBuffer);
    expect(jpeg2000DecompositionLevels(codestream)).toBeGreaterThanOrEqual(2);
    const full = await decodeFrame(parsed, 0, 'mr', {});
    const quarter = await decodeFrame(parsed, 0, 'mr', { maxSide: 16 });
    expect([full.rows, full.columns, full.scale]).toEqual([64, 64, 1]);
    expect([quarter.rows, quarter.columns, quarter.scale]).toEqual([16, 16, 4]);
    if (full.kind !== 'gray' || quarter.kind !== 'gray') throw new Error('expected grayscale');
    // The wavelet's low-pass image is a smoothed reduction: at level 1 it follows the 2×2 block means of the full
    // frame (at deeper levels its sampling phase drifts by up to ~1.5 source pixels from block means).
    const half = await decodeFrame(parsed, 0, 'mr', { maxSide: 32 });
    if (half.kind !== 'gray') throw new Error('expected grayscale');
    const means: number[] = [];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        let sum = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) sum += full.values[(y * 2 + dy) * 64 + x * 2 + dx]!;
        means.push(sum / 4);
      }
    }
    const reduced = Array.from(half.values);
    const mean = (a: number[]): number => a.reduce((n, v) => n + v, 0) / a.length;
    const [ma, mb] = [mean(means), mean(reduced)];
    const cov = means.reduce((n, v, i) => n + (v - ma) * (reduced[i]! - mb), 0);
    const sd = (a: number[], m: number): number => Math.sqrt(a.reduce((n, v) => n + (v - m) ** 2, 0));
    expect(cov / (sd(means, ma) * sd(reduced, mb))).toBeGreaterThan(0.95);
    expect(Math.abs(mb - ma)).toBeLessThan(0.02 * (full.range.max - full.range.min));
    expect(Math.abs(mean(Array.from(quarter.values)) - ma)).toBeLessThan(0.02 * (full.range.max - full.range.min));
    expect(quarter.range.max).toBeLessThanOrEqual(full.range.max * 1.1);
  });

  it('never goes below the requested side, and leaves other syntaxes at full resolution', async () => {
    const parsed = await readDicomFile(fixture('MR_small_jp2klossless.dcm'));
    expect((await decodeFrame(parsed, 0, 'mr', { maxSide: 33 })).scale).toBe(1); // 32 would be smaller than 33
    expect((await decodeFrame(parsed, 0, 'mr', { maxSide: 32 })).columns).toBe(32);
    const rle = await decodeFrame(await readDicomFile(fixture('MR_small_RLE.dcm')), 0, 'rle', { maxSide: 16 });
    expect([rle.columns, rle.scale]).toEqual([64, 1]);
    const image = await decodeFrameImage(parsed, 0, 'mr', { maxSide: 16 });
    const fullImage = await decodeFrameImage(parsed, 0, 'mr');
    expect(image.scale).toBe(4);
    expect(image.pixelSpacing).toEqual(fullImage.pixelSpacing!.map((s) => s * 4));
  });

  it('resizes separably with the same area means as the 2-D definition', () => {
    const source = {
      width: 7,
      height: 5,
      channels: 1 as const,
      data: Uint8Array.from({ length: 35 }, (_, i) => i * 7),
    };
    const out = resize(source, 3, 2);
    // Output (0,0) covers x 0…7/3, y 0…5/2: weights 1, 1, 1/3 by 1, 1, 1/2.
    const xs = [1, 1, 1 / 3];
    const ys = [1, 1, 0.5];
    let sum = 0;
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) sum += source.data[y * 7 + x]! * xs[x]! * ys[y]!;
    expect(out.data[0]).toBe(Math.round(sum / ((7 / 3) * 2.5)));
    expect(resize(source, 14, 10).data[0]).toBe(0); // enlarging keeps the nearest source pixel
  });
});
