import { decodeFrame, type DecodeOptions } from './decodeFrame';
import type { VoiFunction, VoiWindow } from './dicomModules';
import type { GrayValues } from './decodeFrame';
import {
  applyModalityLut,
  applyStoredVoi,
  windowFromRange,
  type ModalityFrame,
  type Rescale,
  type Window,
} from './pixelTransforms';
import type { ParsedDicom } from './readDicom';
import type { Bitmap } from './renderPng';

/** A decoded frame with its modality values and display defaults, shared by the viewer, thumbnails and model images. */
export type FrameImage = {
  rows: number;
  columns: number;
  /** 1 for the full frame; 2^level for a reduced-resolution decode (pixel spacing is scaled to match). */
  scale: number;
  pixelSpacing: [number, number] | null;
} & (
  | {
      kind: 'gray';
      /** Stored values (before the modality LUT) and their range. */
      stored: GrayValues;
      storedRange: { min: number; max: number };
      rescale: Rescale;
      /** Modality values (e.g. HU) as Float32, computed on first use (the viewer's pixels). */
      readonly modality: ModalityFrame;
      /** MONOCHROME1: low values are bright. */
      invert: boolean;
      /** The file's windows for this frame (per-frame VOI of enhanced objects first). */
      fileWindows: VoiWindow[];
      voiFunction: VoiFunction;
      defaultWindow: Window;
    }
  | { kind: 'rgb'; rgb: Uint8Array }
);

/**
 * Decodes one frame and applies the modality LUT (per-frame rescale of enhanced objects first). `options.maxSide`
 * allows a reduced-resolution decode where the codec has one (thumbnails, model images); the viewer asks for none.
 */
export async function decodeFrameImage(
  parsed: ParsedDicom,
  frame: number,
  what?: string,
  options: DecodeOptions = {},
): Promise<FrameImage> {
  const decoded = await decodeFrame(parsed, frame, what, options);
  const { modules } = parsed;
  const groups = modules.multiFrame?.frames[frame] ?? null;
  const fullSpacing = groups?.pixelSpacing ?? modules.imagePlane.pixelSpacing;
  const scale = decoded.scale;
  const pixelSpacing: [number, number] | null =
    fullSpacing && scale !== 1 ? [fullSpacing[0] * scale, fullSpacing[1] * scale] : fullSpacing;
  if (decoded.kind === 'rgb') {
    return { kind: 'rgb', rows: decoded.rows, columns: decoded.columns, scale, pixelSpacing, rgb: decoded.rgb };
  }
  const { slope, intercept } = groups?.rescale ?? modules.modalityLut;
  const stored = decoded.values;
  const range = decoded.range;
  const ends = [range.min * slope + intercept, range.max * slope + intercept];
  const fileWindows = groups && groups.windows.length > 0 ? groups.windows : modules.voiLut.windows;
  const first = fileWindows[0];
  let modality: ModalityFrame | null = null;
  return {
    kind: 'gray',
    rows: decoded.rows,
    columns: decoded.columns,
    scale,
    pixelSpacing,
    stored,
    storedRange: range,
    rescale: { slope, intercept },
    get modality(): ModalityFrame {
      modality ??= applyModalityLut(stored, slope, intercept, range);
      return modality;
    },
    invert: decoded.monochrome1,
    fileWindows,
    voiFunction: modules.voiLut.voiFunction,
    defaultWindow: first
      ? { center: first.center, width: first.width }
      : windowFromRange(Math.fround(Math.min(...ends)), Math.fround(Math.max(...ends))),
  };
}

/** Renders a frame to 8-bit display pixels with the given window (the default window when null). */
export function frameBitmap(image: FrameImage, window: Window | null): { bitmap: Bitmap; window: Window | null } {
  if (image.kind === 'rgb') {
    return { bitmap: { width: image.columns, height: image.rows, channels: 3, data: image.rgb }, window: null };
  }
  const used = window ?? image.defaultWindow;
  const data = applyStoredVoi(
    image.stored,
    image.storedRange,
    image.rescale,
    used,
    window ? 'LINEAR' : image.voiFunction,
    image.invert,
  );
  return { bitmap: { width: image.columns, height: image.rows, channels: 1, data }, window: used };
}
