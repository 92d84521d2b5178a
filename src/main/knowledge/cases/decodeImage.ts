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
      options: { colorType: number; inputColorType: number; bitDepth: 8 },
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

/** Area-averaging resize of a single-channel float image (exact for integer and fractional factors). */
export function resizeArea(src: Float32Array, width: number, height: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = width / outW;
  const sy = height / outH;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        const row = y * width;
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          sum += src[row + x]! * w;
          area += w;
        }
      }
      out[oy * outW + ox] = area > 0 ? sum / area : 0;
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
    { colorType: image.channels === 1 ? 0 : 2, inputColorType: 6, bitDepth: 8 },
  );
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Decodes a stored PNG thumbnail back to pixels (for re-scaling). */
export function decodeStoredPng(bytes: Uint8Array): DecodedImage {
  return decodePng(bytes, 'stored thumbnail');
}
