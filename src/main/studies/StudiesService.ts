import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type {
  FramePixels,
  FrameRequest,
  ImportSummary,
  InstanceSummary,
  ModelImage,
  ModelImageRequest,
  RunStarted,
  SeriesSummary,
  StudyQuery,
  StudyReport,
  StudySummary,
} from '../../shared/contract';
import { AppError } from '../errors/AppError';
import type { EventBus } from '../ipc/EventBus';
import type { RunRegistry } from '../runs/RunRegistry';
import type { Db } from '../store/openStore';
import { DicomError } from '../dicom/dicomErrors';
import type { FrameImage } from '../dicom/frameImage';
import { windowFromRange, type Window } from '../dicom/pixelTransforms';
import { transferSyntaxInfo } from '../dicom/transferSyntax';
import { batchedHeaderReader } from './batchedHeaderReader';
import { importStudies, type ImporterSettings } from './importStudies';
import { LruCache } from './LruCache';
import { InlinePixelExecutor, type PixelExecutor, type TaskPriority } from './pixels/PixelExecutor';
import { frameImageFromPayload, payloadFromFrameImage, type PixelSource } from './pixels/pixelTasks';
import { StudyIndex, type FileOutcome, type InstanceLocation } from './StudyIndex';

export interface StudiesServiceOptions {
  /** Longest side of model images in pixels. Defaults to 512. */
  modelImageMaxSize?: number;
  /** Memory for decoded frames kept for the viewer. Defaults to 256 MiB. */
  frameCacheBytes?: number;
  importer?: ImporterSettings;
  /**
   * Where pixel work runs (frame decoding, thumbnails, model images, import headers): a PixelPool of worker threads in
   * the app, so the main thread stays free for IPC. Defaults to inline on the calling thread (CLI, tests).
   */
  pixels?: PixelExecutor;
}

type ImageSource = { path: string } | { sopInstanceUid: string };

/** A model image with where it came from (what the reasoning's image source and the audit record). */
export interface RenderedModelImage extends ModelImage {
  studyInstanceUid: string | null;
  sopInstanceUid: string | null;
  frame: number;
}

const samplesImportedKey = 'bundledSamplesImported';
/** Files per header-reading task of an import (~2.5 ms of work in a worker; a frame request waits behind two). */
const headerBatchSize = 16;

function notFound(what: string, uid: string): AppError {
  return new AppError('NOT_FOUND', `studies: expected a known ${what}, found "${uid}"`);
}

function checkWindow(window: Window | null): Window | null {
  if (window && !(Number.isFinite(window.center) && Number.isFinite(window.width) && window.width > 0)) {
    throw new AppError(
      'INVALID_INPUT',
      `studies.modelImage: expected a window with finite center and width > 0, found ${JSON.stringify(window)}`,
    );
  }
  return window;
}

function frameCost(image: FrameImage): number {
  // Stored values plus the Float32 modality values the viewer asks for.
  return image.kind === 'gray' ? image.stored.byteLength + image.rows * image.columns * 4 : image.rgb.byteLength;
}

/**
 * Studies: import (a cancellable run), the study index, frames for the viewer, thumbnails and the PNG images given
 * to the model. Pixel data stays in the user's files; the index keeps their paths.
 */
export class StudiesService {
  readonly index: StudyIndex;
  readonly #runs: RunRegistry;
  readonly #bus: EventBus;
  readonly #modelImageMaxSize: number;
  readonly #importer: ImporterSettings;
  readonly #frames: LruCache<string, FrameImage>;
  readonly #decoding = new Map<string, Promise<FrameImage>>();
  readonly #pixels: PixelExecutor;

  constructor(deps: { db: Db; runs: RunRegistry; bus: EventBus }, options: StudiesServiceOptions = {}) {
    this.index = new StudyIndex(deps.db);
    this.#runs = deps.runs;
    this.#bus = deps.bus;
    this.#modelImageMaxSize = options.modelImageMaxSize ?? 512;
    this.#importer = options.importer ?? {};
    this.#frames = new LruCache(options.frameCacheBytes ?? 256 * 1024 * 1024, frameCost);
    this.#pixels = options.pixels ?? new InlinePixelExecutor();
  }

  list(query: StudyQuery = {}): StudySummary[] {
    return this.index.listStudies(query);
  }

  series({ studyInstanceUid }: { studyInstanceUid: string }): SeriesSummary[] {
    return this.index.listSeries(studyInstanceUid);
  }

  instances({ seriesInstanceUid }: { seriesInstanceUid: string }): InstanceSummary[] {
    return this.index.listInstances(seriesInstanceUid);
  }

  report({ sopInstanceUid }: { sopInstanceUid: string }): StudyReport {
    if (!this.index.location(sopInstanceUid)) throw notFound('SOP Instance UID', sopInstanceUid);
    const text = this.index.reportText(sopInstanceUid);
    if (text === null) {
      throw new AppError(
        'NOT_A_REPORT',
        `studies.report: expected a structured report instance, found an image (${sopInstanceUid})`,
      );
    }
    return { sopInstanceUid, text };
  }

  /** Per-file outcomes of every import (imported, already present, skipped with reason, failed with reason). */
  fileOutcomes(): FileOutcome[] {
    return this.index.fileOutcomes();
  }

  /** Starts an import run; progress arrives as `studies.importProgress`, then `studies.importDone` and `runs.finished`. */
  startImport({ paths }: { paths: string[] }): RunStarted {
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string' || p === '')) {
      throw new AppError(
        'INVALID_INPUT',
        `studies.import: expected one or more file or folder paths, found ${JSON.stringify(paths)}`,
      );
    }
    const runId = this.#runs.start('studies.import', async ({ runId: id, signal }) => {
      const summary = await this.importNow(paths, { signal, runId: id });
      const { cancelled: _cancelled, ...result } = summary;
      this.#bus.emit('studies.importDone', { runId: id, summary: result });
    });
    return { runId };
  }

  /** Imports directly (CLI, tests, bundled samples); the run version wraps this. */
  async importNow(
    paths: string[],
    options: { signal?: AbortSignal; runId?: string } = {},
  ): Promise<ImportSummary & { cancelled: boolean }> {
    const runId = options.runId ?? '';
    const { signal } = options;
    return importStudies(
      this.index,
      paths,
      {
        signal,
        onProgress: (event) => this.#bus.emit('studies.importProgress', { runId, ...event }),
        onCommitted: (studyInstanceUids) => this.#bus.emit('studies.changed', { studyInstanceUids }),
      },
      // Two batches in flight per thread: one being read while the answer to the other is indexed.
      { readAhead: 2 * headerBatchSize * this.#pixels.concurrency, ...this.#importer },
      batchedHeaderReader(this.#pixels, { batchSize: headerBatchSize, signal }),
    );
  }

  /** Imports the bundled sample studies once per data directory (first start), as a normal import run. */
  importBundledSamplesOnFirstStart(directory: string): RunStarted | null {
    if (this.index.getMeta(samplesImportedKey) !== null || !existsSync(directory)) return null;
    // Only the DICOM files: the folder's licenses and README are not worth a "not DICOM" line on first start.
    const files = readdirSync(directory, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.toLowerCase().endsWith('.dcm'))
      .map((name) => join(directory, name));
    if (files.length === 0) return null;
    this.index.setMeta(samplesImportedKey, new Date().toISOString());
    return this.startImport({ paths: files });
  }

  remove({ studyInstanceUid }: { studyInstanceUid: string }): { removed: boolean } {
    const series = this.index.listSeries(studyInstanceUid).map((s) => s.seriesInstanceUid);
    const sops = new Set(series.flatMap((s) => this.index.listInstances(s).map((i) => i.sopInstanceUid)));
    const removed = this.index.removeStudy(studyInstanceUid);
    if (removed) {
      this.#frames.deleteWhere((key) => sops.has(key.split('#')[0]!));
      this.#bus.emit('studies.changed', { studyInstanceUids: [studyInstanceUid] });
    }
    return { removed };
  }

  #locate(sopInstanceUid: string): InstanceLocation {
    const location = this.index.location(sopInstanceUid);
    if (!location) throw notFound('SOP Instance UID', sopInstanceUid);
    if (location.undisplayableCode) {
      throw new DicomError(
        location.undisplayableCode as 'NO_PIXEL_DATA',
        `${location.path}: ${location.undisplayableReason}`,
      );
    }
    if (!existsSync(location.path)) {
      throw new AppError(
        'FILE_MISSING',
        `studies: expected the file of ${sopInstanceUid} at ${location.path}, found nothing there (moved or deleted since import)`,
      );
    }
    return location;
  }

  #source(location: InstanceLocation): PixelSource {
    return { kind: location.kind, path: location.path };
  }

  #checkFrame(location: InstanceLocation, frame: number): void {
    if (!Number.isInteger(frame) || frame < 0 || frame >= Math.max(1, location.frames)) {
      throw new DicomError(
        'FRAME_OUT_OF_RANGE',
        `studies: expected a frame index in 0…${Math.max(1, location.frames) - 1} for ${location.sopUid}, found ${frame}`,
      );
    }
  }

  /** A decoded frame at full resolution (cached by bytes), for the viewer, thumbnails and model images. */
  async frameImage(sopInstanceUid: string, frame: number, priority: TaskPriority = 'interactive'): Promise<FrameImage> {
    const location = this.#locate(sopInstanceUid);
    this.#checkFrame(location, frame);
    const key = `${sopInstanceUid}#${frame}`;
    const cached = this.#frames.get(key);
    if (cached) return cached;
    const inFlight = this.#decoding.get(key);
    if (inFlight) return inFlight;
    // The modality (Float32) values come back with the stored ones: the viewer's pixels, computed off this thread.
    const decoding = this.#pixels
      .run('decode', { source: this.#source(location), frame, withModality: true }, { priority })
      .then(frameImageFromPayload);
    this.#decoding.set(key, decoding);
    try {
      const image = await decoding;
      this.#frames.set(key, image);
      return image;
    } finally {
      this.#decoding.delete(key);
    }
  }

  async frame({ sopInstanceUid, frame }: FrameRequest): Promise<FramePixels> {
    const image = await this.frameImage(sopInstanceUid, frame);
    if (image.kind === 'rgb') {
      return {
        sopInstanceUid,
        frame,
        rows: image.rows,
        columns: image.columns,
        samplesPerPixel: 3,
        pixels: image.rgb,
        minValue: 0,
        maxValue: 255,
        defaultWindow: { center: 128, width: 256 },
        invert: false,
        pixelSpacing: image.pixelSpacing,
      };
    }
    return {
      sopInstanceUid,
      frame,
      rows: image.rows,
      columns: image.columns,
      samplesPerPixel: 1,
      pixels: image.modality.values,
      minValue: image.modality.min,
      maxValue: image.modality.max,
      defaultWindow: image.defaultWindow,
      invert: image.invert,
      pixelSpacing: image.pixelSpacing,
    };
  }

  /**
   * Renders a thumbnail or model image of longest side `maxSize` in the pixel executor. A JPEG 2000 frame at least
   * twice that size is decoded at a reduced resolution (the codestream's lower levels, a fraction of the work);
   * everything else renders from the full frame — the viewer's cached one when it is there. The choice depends only on
   * the file and the size, never on what is cached, so the same request always yields the same PNG bytes (the audit's
   * sha256).
   */
  async #renderInstance(
    sopInstanceUid: string,
    frame: number,
    window: Window | null,
    maxSize: number,
    options: { priority: TaskPriority; signal?: AbortSignal },
  ): Promise<ModelImage> {
    const location = this.#locate(sopInstanceUid);
    this.#checkFrame(location, frame);
    const longest = Math.max(location.rows ?? 0, location.columns ?? 0);
    const reduce =
      location.kind === 'dicom' &&
      transferSyntaxInfo(location.transferSyntaxUid)?.encoding === 'jpeg2000' &&
      Math.ceil(longest / 2) >= maxSize;
    const cached = reduce ? undefined : this.#frames.get(`${sopInstanceUid}#${frame}`);
    return this.#pixels.run(
      'render',
      {
        source: this.#source(location),
        frame,
        window,
        maxSize,
        reduce,
        ...(cached ? { image: payloadFromFrameImage(cached, false) } : {}),
      },
      options,
    );
  }

  /**
   * The PNG the model sees: the frame windowed (the file's window when `window` is null) to 8 bits, MONOCHROME1
   * inverted, longest side capped (aspect kept), with the exact bytes' sha256 for the audit.
   */
  async renderModelImage(request: ModelImageRequest, signal?: AbortSignal): Promise<RenderedModelImage> {
    const window = checkWindow(request.window);
    const location = this.index.location(request.sopInstanceUid);
    const maxSize = request.maxSize ?? this.#modelImageMaxSize;
    const image = await this.#renderInstance(request.sopInstanceUid, request.frame, window, maxSize, {
      priority: 'background',
      signal,
    });
    return {
      ...image,
      studyInstanceUid: location?.studyUid ?? null,
      sopInstanceUid: request.sopInstanceUid,
      frame: request.frame,
    };
  }

  /**
   * A DICOM file's frame as the model's PNG without importing it (headless `ask --image x.dcm`); same rendering as
   * `renderModelImage` (a JPEG 2000 of ≥ 2× the size decoded at a reduced resolution).
   */
  async renderFileImage(
    path: string,
    request: { frame: number; window: Window | null; maxSize?: number },
    signal?: AbortSignal,
  ): Promise<RenderedModelImage> {
    const window = checkWindow(request.window);
    const maxSize = request.maxSize ?? this.#modelImageMaxSize;
    const options = { priority: 'background' as const, signal };
    const [header, image] = await Promise.all([
      this.#pixels.run('header', { path }, options),
      this.#pixels.run(
        'render',
        { source: { kind: 'dicom', path }, frame: request.frame, window, maxSize, reduce: true },
        options,
      ),
    ]);
    const record = header.kind === 'instance' ? header.record : null;
    return {
      ...image,
      studyInstanceUid: record?.study.uid || null,
      sopInstanceUid: record?.instance.sopUid || null,
      frame: request.frame,
    };
  }

  /**
   * A plain PNG/JPEG (an image study, or any image file such as a VQA-RAD question's) as the model's PNG: decoded,
   * size-capped, re-encoded, hashed.
   */
  async imageStudyPng(source: ImageSource, options: { maxSize?: number } = {}): Promise<ModelImage> {
    const maxSize = options.maxSize ?? this.#modelImageMaxSize;
    if ('sopInstanceUid' in source)
      return this.renderModelImage({ sopInstanceUid: source.sopInstanceUid, frame: 0, window: null, maxSize });
    if (!existsSync(source.path)) {
      throw new AppError('FILE_MISSING', `studies: expected an image file at ${source.path}, found nothing there`);
    }
    // An 8-bit image rendered with the identity window (128/256): its pixels as they are, resized and re-encoded.
    return this.#pixels.run(
      'render',
      { source: { kind: 'image', path: source.path }, frame: 0, window: null, maxSize, reduce: false },
      { priority: 'background' },
    );
  }

  /** PNG thumbnail of the series' middle displayable image (middle frame of a multi-frame object). */
  async thumbnail({
    seriesInstanceUid,
    maxSize = 128,
  }: {
    seriesInstanceUid: string;
    maxSize?: number;
  }): Promise<Uint8Array> {
    const displayable = this.index.listInstances(seriesInstanceUid).filter((i) => !i.undisplayableReason);
    if (displayable.length === 0) {
      if (this.index.listInstances(seriesInstanceUid).length === 0)
        throw notFound('Series Instance UID', seriesInstanceUid);
      throw new DicomError(
        'NO_PIXEL_DATA',
        `studies.thumbnail: expected a series with images, found only objects without pixels (${seriesInstanceUid})`,
      );
    }
    const middle = displayable[Math.floor((displayable.length - 1) / 2)]!;
    const size = Math.max(16, Math.min(1024, maxSize));
    const frame = Math.floor((Math.max(1, middle.frames) - 1) / 2);
    return (await this.#renderInstance(middle.sopInstanceUid, frame, null, size, { priority: 'background' })).png;
  }

  /** A window spanning the data of a frame (for callers that want "auto" windowing). */
  static rangeWindow(image: FrameImage): Window | null {
    return image.kind === 'gray' ? windowFromRange(image.modality.min, image.modality.max) : null;
  }
}
