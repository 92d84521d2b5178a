/**
 * Plain PNG/JPEG images (VQA-RAD, MedPix and other teaching sets are images, not DICOM), read as single-frame image
 * studies. Decoding goes through pngjs and the libjpeg-turbo WASM codec.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { decodeJpeg8 } from './codecs/wasmCodecs';
import { DicomError } from './dicomErrors';
import type { Bitmap } from './renderPng';

const nodeRequire = createRequire(import.meta.url);
const { PNG } = nodeRequire('pngjs') as {
  PNG: { sync: { read(buffer: Buffer): { width: number; height: number; data: Buffer } } };
};

export type ImageFormat = 'png' | 'jpeg';

export function imageFormatOf(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Width and height from the PNG IHDR or the JPEG frame header, without decoding pixels. */
export function imageSize(bytes: Uint8Array, format: ImageFormat): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    if (bytes.length < 24) return null;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) {
      p++;
      continue;
    }
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(p + 5), width: view.getUint16(p + 7) };
    }
    p += 2 + view.getUint16(p + 2);
  }
  return null;
}

/** A DICOM-style UID (2.25 = UUID-derived, PS3.5 B.2) from a hash, so re-importing the same bytes is idempotent. */
export function uidFromHash(label: string, contentHash: string): string {
  const digest = createHash('sha256').update(`${label}:${contentHash}`).digest('hex');
  return `2.25.${BigInt(`0x${digest.slice(0, 30)}`).toString()}`;
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Decodes a PNG/JPEG to 8-bit gray (when all channels agree) or RGB; alpha is composited on black. */
export async function decodeImageFile(bytes: Uint8Array, what: string): Promise<Bitmap> {
  const format = imageFormatOf(bytes);
  if (format === 'png') {
    let decoded: { width: number; height: number; data: Buffer };
    try {
      decoded = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      throw new DicomError(
        'IMAGE_DECODE_FAILED',
        `${what}: expected a readable PNG, found: ${(error as Error).message}`,
      );
    }
    const { width, height, data } = decoded;
    const pixels = width * height;
    let gray = true;
    for (let i = 0; i < pixels && gray; i++) gray = data[i * 4] === data[i * 4 + 1] && data[i * 4] === data[i * 4 + 2];
    const channels = gray ? 1 : 3;
    const out = new Uint8Array(pixels * channels);
    for (let i = 0; i < pixels; i++) {
      const alpha = data[i * 4 + 3]! / 255;
      for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(data[i * 4 + c]! * alpha);
    }
    return { width, height, channels, data: out };
  }
  if (format === 'jpeg') {
    const decoded = await decodeJpeg8(bytes, what).catch((error: unknown) => {
      throw new DicomError(
        'IMAGE_DECODE_FAILED',
        `${what}: expected a readable JPEG, found: ${(error as Error).message}`,
      );
    });
    if (decoded.components !== 1 && decoded.components !== 3) {
      throw new DicomError(
        'IMAGE_DECODE_FAILED',
        `${what}: expected a grayscale or RGB JPEG, found ${decoded.components} components`,
      );
    }
    return { width: decoded.width, height: decoded.height, channels: decoded.components, data: decoded.bytes };
  }
  throw new DicomError('NOT_DICOM', `${what}: expected a PNG or JPEG image, found neither signature`);
}
