import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AppError } from '../../errors/AppError';
import type { EvalImage, EvalImageFormat } from './EvalItem';

/** Raised when an item's image is missing, unreadable, or not PNG, JPEG or DICOM. */
export class EvalImageError extends AppError {
  constructor(code: 'IMAGE_MISSING' | 'IMAGE_UNSUPPORTED' | 'IMAGE_CHANGED', message: string) {
    super(code, message);
  }
}

/** The image format from the file's first bytes (DICOM: "DICM" after the 128-byte preamble, or a .dcm name). */
export function sniffImageFormat(bytes: Uint8Array, path: string): EvalImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM') return 'dicom';
  // Some DICOM files are written without the Part 10 preamble; their name is the only hint left.
  if (['.dcm', '.dicom'].includes(extname(path).toLowerCase()) && bytes.length > 0) return 'dicom';
  return null;
}

/**
 * Reads, identifies and hashes image files, once per path: VQA-RAD asks many questions about the same image.
 */
export class ImageInspector {
  readonly #cache = new Map<string, Promise<EvalImage>>();

  inspect(path: string): Promise<EvalImage> {
    let pending = this.#cache.get(path);
    if (!pending) {
      pending = inspectImage(path);
      this.#cache.set(path, pending);
    }
    return pending;
  }
}

export async function inspectImage(path: string): Promise<EvalImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new EvalImageError('IMAGE_MISSING', `image ${path}: expected a readable file, found ${code}`);
  }
  const format = sniffImageFormat(bytes, path);
  if (!format) {
    const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new EvalImageError(
      'IMAGE_UNSUPPORTED',
      `image ${path}: expected PNG, JPEG or DICOM, found ${bytes.length === 0 ? 'an empty file' : `bytes ${head}`}`,
    );
  }
  return { path, format, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

/** Throws IMAGE_CHANGED when the file no longer has the bytes recorded when the evaluation was created. */
export async function verifyImage(image: EvalImage): Promise<void> {
  const now = await inspectImage(image.path);
  if (now.sha256 !== image.sha256) {
    throw new EvalImageError(
      'IMAGE_CHANGED',
      `image ${image.path}: expected sha256 ${image.sha256.slice(0, 12)}… as recorded, found ${now.sha256.slice(0, 12)}…`,
    );
  }
}
