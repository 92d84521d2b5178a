import { createRequire } from 'node:module';
import { InvalidInputError } from '../../errors/AppError';

/** 8-bit pixels, interleaved: 1 channel (gray) or 3 (RGB). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

interface PngStatic {
  sync: {
    read(buffer: Buffer): { width: number; height: number; data: Buffer };
    write(
      png: { width: number; height: number; data: Buffer },
      options: { colorType: number; inputColorType: number; bitDepth: 8; filterType: number },
    ): Buffer;
  };
}

interface JpegDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; componentCount: number; bitsPerSample: number };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

const require = createRequire(import.meta.url);
const { PNG } = require('pngjs') as { PNG: PngStatic };
let jpegCodec: Promise<{ JPEGDecoder: new () => JpegDecoder }> | null = null;

/** Decodes a PNG (any bit depth / colour type, via pngjs) or a JPEG (libjpeg-turbo WASM) into 8-bit pixels. */
export async function decodeImage(bytes: Uint8Array, what: string): Promise<DecodedImage> {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePng(bytes, what);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, what);
  throw new InvalidInputError(
    what,
    'a PNG or JPEG image',
    `bytes ${Buffer.from(bytes.subarray(0, 4)).toString('hex')}`,
  );
}

function decodePng(bytes: Uint8Array, what: string): DecodedImage {
  let png;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new InvalidInputError(what, 'a valid PNG', (error as Error).message);
  }
  const { width, height, data } = png;
  let gray = true;
  for (let i = 0; i < data.length && gray; i += 4 * 97) gray = data[i] === data[i + 1] && data[i] === data[i + 2];
  const channels = gray ? 1 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    // Transparent pixels are composited on black (medical PNGs rarely carry alpha).
    const alpha = data[q + 3]! / 255;
    if (channels === 1) out[p] = Math.round(data[q]! * alpha);
    else for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(data[q + c]! * alpha);
  }
  return { width, height, channels, data: out };
}

async function decodeJpeg(bytes: Uint8Array, what: string): Promise<DecodedImage> {
  jpegCodec ??= (
    require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs') as () => Promise<{
      JPEGDecoder: new () => JpegDecoder;
    }>
  )();
  const codec = await jpegCodec;
  const decoder = new codec.JPEGDecoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (info.bitsPerSample !== 8 || (info.componentCount !== 1 && info.componentCount !== 3)) {
      throw new InvalidInputError(
        what,
        'an 8-bit gray or RGB JPEG',
        `${info.bitsPerSample}-bit, ${info.componentCount} components`,
      );
    }
    return {
      width: info.width,
      height: info.height,
      channels: info.componentCount as 1 | 3,
      data: Uint8Array.from(decoder.getDecodedBuffer()),
    };
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(what, 'a decodable JPEG', error instanceof Error ? error.message : String(error));
  } finally {
    decoder.delete();
  }
}

/** Luma (BT.601) as floats in 0..1. */
export function toGray(image: DecodedImage): Float32Array {
  const n = image.width * image.height;
  const gray = new Float32Array(n);
  if (image.channels === 1) for (let i = 0; i < n; i++) gray[i] = image.data[i]! / 255;
  else {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      gray[i] = (0.299 * image.data[j]! + 0.587 * image.data[j + 1]! + 0.114 * image.data[j + 2]!) / 255;
    }
  }
  return gray;
}

/** For each output position, the source positions it covers and their weights (box filter, sums to 1). */
function areaWeights(inSize: number, outSize: number): { from: Int32Array; count: Int32Array; weights: Float32Array } {
  const scale = inSize / outSize;
  const span = Math.ceil(scale) + 1;
  const from = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * span);
  for (let o = 0; o < outSize; o++) {
    const a = o * scale;
    const b = Math.min(inSize, a + scale);
    const first = Math.floor(a);
    from[o] = first;
    let n = 0;
    for (let i = first; i < b && n < span; i++, n++)
      weights[o * span + n] = (Math.min(i + 1, b) - Math.max(i, a)) / (b - a);
    count[o] = n;
  }
  return { from, count, weights };
}

/** Area-averaging resize of a single-channel float image, separable (rows, then columns). */
export function resizeArea(src: Float32Array, width: number, height: number, outW: number, outH: number): Float32Array {
  const h = areaWeights(width, outW);
  const v = areaWeights(height, outH);
  const hSpan = h.weights.length / outW;
  const vSpan = v.weights.length / outH;
  const rows = new Float32Array(outW * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let o = 0; o < outW; o++) {
      let sum = 0;
      const base = row + h.from[o]!;
      for (let i = 0; i < h.count[o]!; i++) sum += src[base + i]! * h.weights[o * hSpan + i]!;
      rows[y * outW + o] = sum;
    }
  }
  const out = new Float32Array(outW * outH);
  for (let o = 0; o < outH; o++) {
    const target = o * outW;
    for (let i = 0; i < v.count[o]!; i++) {
      const weight = v.weights[o * vSpan + i]!;
      const source = (v.from[o]! + i) * outW;
      for (let x = 0; x < outW; x++) out[target + x]! += rows[source + x]! * weight;
    }
  }
  return out;
}

/** PNG bytes of the image scaled (area average) to fit `maxSize` × `maxSize`; never upscaled. */
export function thumbnailPng(image: DecodedImage, maxSize: number): Uint8Array {
  const scale = Math.min(1, maxSize / Math.max(image.width, image.height));
  const outW = Math.max(1, Math.round(image.width * scale));
  const outH = Math.max(1, Math.round(image.height * scale));
  const planes: Float32Array[] = [];
  for (let c = 0; c < image.channels; c++) {
    const plane = new Float32Array(image.width * image.height);
    for (let i = 0; i < plane.length; i++) plane[i] = image.data[i * image.channels + c]!;
    planes.push(scale === 1 ? plane : resizeArea(plane, image.width, image.height, outW, outH));
  }
  const rgba = Buffer.alloc(outW * outH * 4);
  for (let i = 0; i < outW * outH; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(planes[image.channels === 1 ? 0 : c]![i]!);
    rgba[i * 4 + 3] = 255;
  }
  const png = PNG.sync.write(
    { width: outW, height: outH, data: rgba },
    { colorType: image.channels === 1 ? 0 : 2, inputColorType: 6, bitDepth: 8, filterType: 4 },
  );
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Decodes a stored PNG thumbnail back to pixels (for re-scaling). */
export function decodeStoredPng(bytes: Uint8Array): DecodedImage {
  return decodePng(bytes, 'stored thumbnail');
}
