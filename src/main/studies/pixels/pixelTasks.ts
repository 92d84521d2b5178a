/**
 * The pixel work of the studies service — decoding a frame, rendering a thumbnail or model image, reading a header
 * for the index — as plain functions over plain data, so the same code runs in a worker thread (pixelWorker.ts) and
 * inline (InlinePixelExecutor). Results carry typed arrays that a worker transfers instead of copying (poolProtocol.ts).
 */
import { readFile } from 'node:fs/promises';
import type { ModelImage } from '../../../shared/contract';
import { CancelledError } from '../../errors/AppError';
import { decodeFrameImage, frameBitmap, type FrameImage } from '../../dicom/frameImage';
import { decodeImageFile } from '../../dicom/imageFiles';
import type { GrayValues } from '../../dicom/decodeFrame';
import type { VoiFunction, VoiWindow } from '../../dicom/dicomModules';
import { valueRange } from '../../dicom/pixelKernels';
import { applyModalityLut, type ModalityFrame, type Rescale, type Window } from '../../dicom/pixelTransforms';
import { readDicomFile, type ParsedDicom } from '../../dicom/readDicom';
import { encodePng, fitSize, resize } from '../../dicom/renderPng';
import { readHeaderRecord, type HeaderRecord, type KnownFileInfo } from '../headerRecord';
import { LruCache } from '../LruCache';
import { serializeError, type SerializedError } from '../../workers/serializedError';

/** Where a frame's pixels are: an indexed DICOM file or a plain PNG/JPEG image study. */
export interface PixelSource {
  kind: 'dicom' | 'image';
  path: string;
}

/** A decoded frame as plain data (a FrameImage whose modality values, when present, are already computed). */
export type FramePayload = {
  rows: number;
  columns: number;
  scale: number;
  pixelSpacing: [number, number] | null;
} & (
  | {
      kind: 'gray';
      stored: GrayValues;
      storedRange: { min: number; max: number };
      rescale: Rescale;
      modality: ModalityFrame | null;
      invert: boolean;
      fileWindows: VoiWindow[];
      voiFunction: VoiFunction;
      defaultWindow: Window;
    }
  | { kind: 'rgb'; rgb: Uint8Array }
);

export interface DecodeArgs {
  source: PixelSource;
  frame: number;
  /** Also compute the Float32 modality values (what the viewer is sent). */
  withModality: boolean;
  /** Reduced-resolution decode where the codec has one (see DecodeOptions.maxSide). Defaults to the full frame. */
  maxSide?: number;
}

export interface RenderArgs {
  source: PixelSource;
  frame: number;
  /** Null: the file's window (else one spanning the data). */
  window: Window | null;
  maxSize: number;
  /** Decode at a reduced resolution of at least `maxSize` where the codec can. */
  reduce: boolean;
  /** The full frame, when the caller already has it decoded (so it is not decoded again). */
  image?: FramePayload;
}

export interface HeaderArgs {
  path: string;
  known?: KnownFileInfo;
}

/** Several files' header reads in one task (an import's batch). */
export interface HeadersArgs {
  files: HeaderArgs[];
}

/** One file of a batch: its record, or why it has none (the error as it crosses threads). */
export type HeaderOutcome = { ok: true; record: HeaderRecord } | { ok: false; error: SerializedError };

export type TaskName = 'decode' | 'render' | 'header' | 'headers';
export interface TaskArgs {
  decode: DecodeArgs;
  render: RenderArgs;
  header: HeaderArgs;
  headers: HeadersArgs;
}
export interface TaskResults {
  decode: FramePayload;
  render: ModelImage;
  header: HeaderRecord;
  headers: HeaderOutcome[];
}

/** What a task may keep between calls (parsed files, for the frames of a multi-frame object) and how it stops. */
export interface TaskContext {
  parsedFiles: LruCache<string, Promise<ParsedDicom>>;
  /** Read file heads with blocking calls (a worker thread, where nothing else waits on its loop). */
  blockingReads: boolean;
  /** Throws CancelledError once the task was cancelled; called between stages. */
  checkCancelled(): void;
}

/** A task context with its own parsed-file cache of `entries` files (defaults to 4). */
export function createTaskContext(blockingReads: boolean, entries = 4): Omit<TaskContext, 'checkCancelled'> {
  return { parsedFiles: new LruCache(entries), blockingReads };
}

export function cancelledCheck(signal: AbortSignal | undefined, what: string): () => void {
  return () => {
    if (signal?.aborted) throw new CancelledError(what);
  };
}

function parsedFile(context: TaskContext, path: string): Promise<ParsedDicom> {
  let parsed = context.parsedFiles.get(path);
  if (!parsed) {
    parsed = readDicomFile(path);
    context.parsedFiles.set(path, parsed);
    parsed.catch(() => context.parsedFiles.delete(path));
  }
  return parsed;
}

/** A plain PNG/JPEG as a single frame (gray when its channels agree). */
async function imageFrame(path: string): Promise<FrameImage> {
  const bitmap = await decodeImageFile(new Uint8Array(await readFile(path)), path);
  if (bitmap.channels === 3) {
    return { kind: 'rgb', rows: bitmap.height, columns: bitmap.width, scale: 1, pixelSpacing: null, rgb: bitmap.data };
  }
  const stored = bitmap.data;
  return frameImageFromPayload({
    kind: 'gray',
    rows: bitmap.height,
    columns: bitmap.width,
    scale: 1,
    pixelSpacing: null,
    stored,
    storedRange: valueRange(stored),
    rescale: { slope: 1, intercept: 0 },
    modality: null,
    invert: false,
    fileWindows: [],
    voiFunction: 'LINEAR',
    defaultWindow: { center: 128, width: 256 },
  });
}

/** The FrameImage of a payload (modality values computed on first use when the payload has none). */
export function frameImageFromPayload(payload: FramePayload): FrameImage {
  if (payload.kind === 'rgb') return payload;
  const { modality: computed, ...rest } = payload;
  let modality = computed;
  return {
    ...rest,
    get modality(): ModalityFrame {
      modality ??= applyModalityLut(rest.stored, rest.rescale.slope, rest.rescale.intercept, rest.storedRange);
      return modality;
    },
  };
}

/** A FrameImage as plain data; `withModality` computes (or reuses) its Float32 modality values. */
export function payloadFromFrameImage(image: FrameImage, withModality: boolean): FramePayload {
  if (image.kind === 'rgb') return { ...image };
  return {
    kind: 'gray',
    rows: image.rows,
    columns: image.columns,
    scale: image.scale,
    pixelSpacing: image.pixelSpacing,
    stored: image.stored,
    storedRange: image.storedRange,
    rescale: image.rescale,
    modality: withModality ? image.modality : null,
    invert: image.invert,
    fileWindows: image.fileWindows,
    voiFunction: image.voiFunction,
    defaultWindow: image.defaultWindow,
  };
}

async function decodeImage(context: TaskContext, args: DecodeArgs): Promise<FrameImage> {
  if (args.source.kind === 'image') return imageFrame(args.source.path);
  const parsed = await parsedFile(context, args.source.path);
  context.checkCancelled();
  return decodeFrameImage(parsed, args.frame, args.source.path, { maxSide: args.maxSide });
}

export async function decodeTask(context: TaskContext, args: DecodeArgs): Promise<FramePayload> {
  context.checkCancelled();
  const image = await decodeImage(context, args);
  context.checkCancelled();
  return payloadFromFrameImage(image, args.withModality);
}

/** A frame windowed to 8 bits (MONOCHROME1 inverted), area-resized to `maxSize` (aspect kept), encoded as PNG. */
export function renderFrameImage(image: FrameImage, window: Window | null, maxSize: number): ModelImage {
  const { bitmap, window: used } = frameBitmap(image, window);
  const size = fitSize(bitmap.width, bitmap.height, maxSize, image.pixelSpacing);
  return { ...encodePng(resize(bitmap, size.width, size.height)), window: used };
}

export async function renderTask(context: TaskContext, args: RenderArgs): Promise<ModelImage> {
  context.checkCancelled();
  const image = args.image
    ? frameImageFromPayload(args.image)
    : await decodeImage(context, {
        source: args.source,
        frame: args.frame,
        withModality: false,
        maxSide: args.reduce ? args.maxSize : undefined,
      });
  context.checkCancelled();
  return renderFrameImage(image, args.window, args.maxSize);
}

export function headerTask(context: TaskContext, args: HeaderArgs): Promise<HeaderRecord> {
  context.checkCancelled();
  return readHeaderRecord(args.path, args.known, { blockingReads: context.blockingReads });
}

/**
 * Reads a batch of headers: one after another with blocking reads in a worker, all at once with asynchronous reads
 * inline (where the reads overlap in libuv's pool). A file's failure is its outcome; a cancel fails the batch.
 */
export async function headersTask(context: TaskContext, args: HeadersArgs): Promise<HeaderOutcome[]> {
  const read = async (file: HeaderArgs): Promise<HeaderOutcome> => {
    context.checkCancelled();
    try {
      return {
        ok: true,
        record: await readHeaderRecord(file.path, file.known, { blockingReads: context.blockingReads }),
      };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  };
  if (!context.blockingReads) return Promise.all(args.files.map(read));
  const outcomes: HeaderOutcome[] = [];
  for (const file of args.files) outcomes.push(await read(file));
  return outcomes;
}

/** Runs one named task. */
export function runTask<T extends TaskName>(context: TaskContext, task: T, args: TaskArgs[T]): Promise<TaskResults[T]> {
  switch (task) {
    case 'decode':
      return decodeTask(context, args as DecodeArgs) as Promise<TaskResults[T]>;
    case 'render':
      return renderTask(context, args as RenderArgs) as Promise<TaskResults[T]>;
    case 'header':
      return headerTask(context, args as HeaderArgs) as Promise<TaskResults[T]>;
    case 'headers':
      return headersTask(context, args as HeadersArgs) as Promise<TaskResults[T]>;
    default:
      throw new Error(`pixel task: expected decode, render, header or headers, found ${String(task)}`);
  }
}
