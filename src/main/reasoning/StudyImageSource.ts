import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { ImageRef } from '../../shared/contract';
import { InvalidInputError } from '../errors/AppError';
import { NotAvailableError } from '../errors/NotAvailableError';
import type { ImageMime, ImageSource, StudyImage } from './ports';

type Window = { center: number; width: number };

/** A DICOM frame rendered for the model (by the studies service). */
export interface RenderedFrame {
  png: Uint8Array;
  window: Window | null;
  studyInstanceUid: string | null;
  sopInstanceUid: string | null;
  frame: number;
}

/** What this source needs from the studies service; both are optional so plain images work without it. */
export interface DicomRenderer {
  /** An indexed instance's frame, windowed (`null` = the file's default window). */
  renderInstance?(request: { sopInstanceUid: string; frame: number; window: Window | null }, signal?: AbortSignal): Promise<RenderedFrame>;
  /** A DICOM file's frame, windowed, without importing it (headless `ask --image x.dcm`). */
  renderFile?(path: string, request: { frame: number; window: Window | null }, signal?: AbortSignal): Promise<RenderedFrame>;
}

export function mimeOf(bytes: Uint8Array): ImageMime | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

function isDicom(bytes: Uint8Array, path: string): boolean {
  const magic = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
  return magic || extname(path).toLowerCase() === '.dcm';
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Resolves the image a question is about into the exact bytes the model will see: a PNG/JPEG file as it is, a DICOM
 * file or indexed instance rendered to PNG with its window by the studies service. The sha256 is of those bytes.
 */
export class StudyImageSource implements ImageSource {
  constructor(private readonly dicom: DicomRenderer = {}) {}

  async load(ref: ImageRef, options: { signal?: AbortSignal } = {}): Promise<StudyImage> {
    if (ref.kind === 'instance') {
      if (!this.dicom.renderInstance) throw new NotAvailableError('study images', 'the studies service is not running');
      return this.#fromFrame(
        await this.dicom.renderInstance({ sopInstanceUid: ref.sopInstanceUid, frame: ref.frame, window: ref.window }, options.signal),
        null,
      );
    }
    const path = resolve(ref.path);
    const bytes = new Uint8Array(await readFile(path, { signal: options.signal }).catch((error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') throw error;
      throw new InvalidInputError('image file', 'a readable PNG, JPEG or DICOM file', `${path} (${error.code ?? error.message})`);
    }));
    const mime = mimeOf(bytes);
    if (mime) {
      return {
        bytes,
        mime,
        sha256: sha256Hex(bytes),
        modelInput: mime === 'image/png' ? { png: bytes } : { path },
        studyInstanceUid: null,
        sopInstanceUid: null,
        frame: null,
        window: null,
        sourcePath: path,
      };
    }
    if (isDicom(bytes, path)) {
      if (!this.dicom.renderFile) throw new NotAvailableError('DICOM images', 'the studies service is not running');
      return this.#fromFrame(await this.dicom.renderFile(path, { frame: 0, window: null }, options.signal), path);
    }
    throw new InvalidInputError('image file', 'a PNG, JPEG or DICOM file', `${path} (unrecognised content)`);
  }

  #fromFrame(frame: RenderedFrame, sourcePath: string | null): StudyImage {
    return {
      bytes: frame.png,
      mime: 'image/png',
      sha256: sha256Hex(frame.png),
      modelInput: { png: frame.png },
      studyInstanceUid: frame.studyInstanceUid,
      sopInstanceUid: frame.sopInstanceUid,
      frame: frame.frame,
      window: frame.window,
      sourcePath,
    };
  }
}
