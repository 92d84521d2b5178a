import { decodeRleFrame } from './codecs/rleDecoder';
import {
  decodeJpeg2000,
  decodeJpeg8,
  jpeg2000DecompositionLevels,
  decodeJpegLossless,
  decodeJpegLs,
  decodeWithDcmjsCodecs,
  jpegSamplePrecision,
  type CodecOutput,
} from './codecs/wasmCodecs';
import { concatBytes } from './concatBytes';
import { DicomError } from './dicomErrors';
import type { ImagePixelModule, PaletteLut } from './dicomModules';
import { floatPixelDataPresent, hasSegmentedPalette, pixelDataValue } from './dicomTags';
import { keepStoredBits, valueRange, type ValueRange } from './pixelKernels';
import type { ParsedDicom } from './readDicom';

export type GrayValues = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/**
 * One decoded frame: stored values for grayscale (before the modality LUT) with their range, RGB bytes for colour.
 * `scale` is 1 for the full frame and 2^level for a reduced-resolution JPEG 2000 decode (rows and columns are then
 * the reduced ones).
 */
export type DecodedFrame = { rows: number; columns: number; scale: number } & (
  { kind: 'gray'; values: GrayValues; range: ValueRange; monochrome1: boolean } | { kind: 'rgb'; rgb: Uint8Array }
);

export interface DecodeOptions {
  /**
   * The longest side the caller will show (a thumbnail, a model image): codecs that can decode a lower resolution
   * (JPEG 2000) stop at the smallest one still at least this large. Defaults to none: the full frame.
   */
  maxSide?: number;
}

function toBytes(part: unknown): Uint8Array {
  if (part instanceof Uint8Array) return part;
  if (part instanceof ArrayBuffer) return new Uint8Array(part);
  if (Array.isArray(part)) return concatBytes(part.map(toBytes));
  throw new DicomError('DICOM_MALFORMED', `pixel data: expected byte buffers, found ${typeof part}`);
}

/** Whether a fragment starts a new compressed frame (JPEG SOI, J2K SOC, JP2 box, RLE header). */
function startsFrame(fragment: Uint8Array, encoding: string): boolean {
  if (encoding === 'rle') return fragment.byteLength >= 64;
  const [a, b] = [fragment[0], fragment[1]];
  if (a === 0xff && (b === 0xd8 || b === 0x4f || b === 0x0a)) return true;
  return fragment[4] === 0x6a && fragment[5] === 0x50; // "jP" signature box
}

/**
 * The encoded bytes of one frame of encapsulated pixel data. dcmjs yields one buffer per frame when the Basic Offset
 * Table is present, else one per fragment; fragments are then grouped at frame starts.
 */
function encapsulatedFrame(parts: unknown[], frameCount: number, frame: number, encoding: string): Uint8Array {
  const buffers = parts.map(toBytes);
  if (buffers.length === frameCount) return buffers[frame]!;
  if (frameCount === 1) return concatBytes(buffers);
  const frames: Uint8Array[][] = [];
  for (const fragment of buffers) {
    if (frames.length === 0 || (startsFrame(fragment, encoding) && frames.length < frameCount)) frames.push([fragment]);
    else frames[frames.length - 1]!.push(fragment);
  }
  if (frames.length !== frameCount) {
    throw new DicomError(
      'DICOM_MALFORMED',
      `encapsulated pixel data: expected ${frameCount} frames, found ${buffers.length} fragments forming ${frames.length}`,
    );
  }
  return concatBytes(frames[frame]!);
}

function bytesPerFrame(pixel: ImagePixelModule): number {
  return (pixel.rows * pixel.columns * pixel.samplesPerPixel * pixel.bitsAllocated) / 8;
}

/**
 * Reads little-endian samples into a typed array of the right width and signedness (a copy: callers may transfer or
 * cache it), keeping BitsStored bits from HighBit down and sign-extending them when the values are signed; returns
 * the values' range from the same pass.
 */
function grayFromLittleEndian(
  bytes: Uint8Array,
  count: number,
  pixel: ImagePixelModule,
  signedHint: boolean | null,
): { values: GrayValues; range: ValueRange } {
  const signed = pixel.pixelRepresentation === 1 || signedHint === true;
  const { bitsAllocated, bitsStored, highBit } = pixel;
  let values: GrayValues;
  let range: ValueRange;
  if (bitsAllocated <= 8) {
    values = signed ? new Int8Array(count) : new Uint8Array(count);
    values.set(signed ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : bytes.subarray(0, count));
    range = valueRange(values);
  } else if (bitsAllocated <= 16) {
    // A copy (callers cache or transfer it), then a read-only range pass: faster than one fused copy-and-range loop.
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 2);
    values = signed ? new Int16Array(copy) : new Uint16Array(copy);
    range = valueRange(values);
  } else {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4);
    values = signed ? new Int32Array(copy) : new Uint32Array(copy);
    range = valueRange(values);
  }
  const container = bitsAllocated <= 8 ? 8 : bitsAllocated <= 16 ? 16 : 32;
  const shift = highBit + 1 - bitsStored;
  // Bits above HighBit (overlays, garbage) or below the stored bits change values only when the range shows them:
  // the masking pass is skipped for the usual file whose values already fit BitsStored.
  const fits = signed
    ? range.min >= -(2 ** (bitsStored - 1)) && range.max < 2 ** (bitsStored - 1)
    : range.min >= 0 && range.max < 2 ** bitsStored;
  if ((bitsStored < container && !fits) || shift > 0) {
    return { values, range: keepStoredBits(values, { shift, bits: bitsStored, signed }) };
  }
  return { values, range };
}

function swapToLittleEndian(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i + width <= bytes.byteLength; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b]!;
  }
  return out;
}

function unpackBits(bytes: Uint8Array, bitOffset: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i;
    out[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function ybrFullToRgb(ybr: Uint8Array): Uint8Array {
  const out = new Uint8Array(ybr.length);
  for (let i = 0; i < ybr.length; i += 3) {
    const y = ybr[i]!;
    const cb = ybr[i + 1]! - 128;
    const cr = ybr[i + 2]! - 128;
    out[i] = clampByte(y + 1.402 * cr);
    out[i + 1] = clampByte(y - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clampByte(y + 1.772 * cb);
  }
  return out;
}

/** Native YBR_FULL_422: two pixels share one chroma pair, stored Y1 Y2 Cb Cr. */
function expandYbr422(bytes: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i + 1 < pixels; i += 2, j += 4) {
    const cb = bytes[j + 2]!;
    const cr = bytes[j + 3]!;
    out.set([bytes[j]!, cb, cr, bytes[j + 1]!, cb, cr], i * 3);
  }
  return out;
}

function applyPalette(values: GrayValues, palette: PaletteLut): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  const last = palette.entries - 1;
  const shift = palette.bits === 16 ? 8 : 0;
  for (let i = 0; i < values.length; i++) {
    let index = values[i]! - palette.firstMapped;
    index = index < 0 ? 0 : index > last ? last : index;
    out[i * 3] = (palette.red[index] ?? 0) >> shift;
    out[i * 3 + 1] = (palette.green[index] ?? 0) >> shift;
    out[i * 3 + 2] = (palette.blue[index] ?? 0) >> shift;
  }
  return out;
}

function colorFromSamples(bytes: Uint8Array, pixel: ImagePixelModule, pixels: number, photometric: string): Uint8Array {
  let rgb: Uint8Array;
  if (pixel.bitsAllocated > 8) {
    // 16-bit colour (rare): keep the most significant 8 of BitsStored.
    const shift = Math.max(0, pixel.bitsStored - 8);
    rgb = new Uint8Array(pixels * 3);
    for (let i = 0; i < pixels * 3; i++) rgb[i] = ((bytes[i * 2]! | (bytes[i * 2 + 1]! << 8)) >> shift) & 0xff;
  } else {
    rgb = bytes.subarray(0, pixels * 3);
  }
  if (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') return ybrFullToRgb(rgb);
  return rgb === bytes ? new Uint8Array(rgb) : rgb;
}

function planarToInterleaved(bytes: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[i * 3] = bytes[i]!;
    out[i * 3 + 1] = bytes[pixels + i]!;
    out[i * 3 + 2] = bytes[2 * pixels + i]!;
  }
  return out;
}

function checkGeometry(output: CodecOutput, pixel: ImagePixelModule, scale: number, what: string): void {
  const columns = Math.ceil(pixel.columns / scale);
  const rows = Math.ceil(pixel.rows / scale);
  if (output.width !== columns || output.height !== rows) {
    const reduced = scale > 1 ? ` at 1/${scale} resolution` : '';
    throw new DicomError(
      'DECODE_FAILED',
      `${what}: expected a ${columns}×${rows} image${reduced} from the header, the codestream holds ${output.width}×${output.height}`,
    );
  }
}

/** The JPEG 2000 resolution level to decode for a target side: the most reduced one still at least `maxSide` long. */
function jpeg2000Level(data: Uint8Array, pixel: ImagePixelModule, maxSide: number | undefined): number {
  if (!maxSide || maxSide <= 0) return 0;
  const levels = jpeg2000DecompositionLevels(data);
  const longest = Math.max(pixel.columns, pixel.rows);
  let level = 0;
  while (level < levels && Math.ceil(longest / 2 ** (level + 1)) >= maxSide) level++;
  return level;
}

/** Sign-extends codec samples that the codestream stored unsigned although PixelRepresentation says signed. */
function fixCodecSign(values: GrayValues, pixel: ImagePixelModule, output: CodecOutput): ValueRange | null {
  if (pixel.pixelRepresentation !== 1 || output.signed === true) return null;
  const bits = Math.min(pixel.bitsStored, output.bitsPerSample || pixel.bitsStored);
  if (bits >= 16) return null;
  return keepStoredBits(values, { shift: 0, bits, signed: true });
}

async function decodeCompressed(
  parsed: ParsedDicom,
  data: Uint8Array,
  what: string,
  level: number,
): Promise<CodecOutput> {
  const pixel = parsed.modules.imagePixel!;
  const encoding = parsed.transferSyntax!.encoding;
  const geometry = { ...pixel };
  switch (encoding) {
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const precision = jpegSamplePrecision(data);
      if (precision !== null && precision > 8) return decodeWithDcmjsCodecs('jpeg', data, geometry, what);
      return decodeJpeg8(data, what);
    }
    case 'jpeg-lossless':
      return decodeJpegLossless(data, pixel.bitsAllocated > 8 ? 2 : 1, what);
    case 'jpeg-ls':
      return decodeJpegLs(data, what);
    case 'jpeg2000':
      return decodeJpeg2000(data, what, level);
    case 'htj2k':
      return decodeWithDcmjsCodecs('htj2k', data, geometry, what);
    case 'jpeg-xl':
      return decodeWithDcmjsCodecs('jpeg-xl', data, geometry, what);
    default:
      throw new DicomError(
        'UNSUPPORTED_TRANSFER_SYNTAX',
        `${what}: ${parsed.transferSyntax!.name} (${parsed.transferSyntax!.uid}) carries ${encoding} data, which the viewer does not decode`,
      );
  }
}

/** 16k × 16k RGB: beyond any modality's frame, so a corrupt Rows/Columns cannot make the decoder allocate gigabytes. */
const maxSamplesPerFrame = 16384 * 16384 * 3;

/** Why a parsed object cannot be displayed (null when it can be decoded), without decoding it. */
export function undisplayableReason(parsed: ParsedDicom): { code: string; message: string } | null {
  const { modules, transferSyntax } = parsed;
  if (!modules.hasPixelData || !modules.imagePixel) {
    const kind = modules.sr
      ? `structured report${modules.sr.documentTitle ? ` "${modules.sr.documentTitle}"` : ''}`
      : 'object';
    return {
      code: 'NO_PIXEL_DATA',
      message: `expected an image with Pixel Data, found a ${modules.series.modality || 'non-image'} ${kind} without pixels`,
    };
  }
  if (floatPixelDataPresent(parsed.dataset)) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: 'expected integer Pixel Data, found Float/Double Float Pixel Data',
    };
  }
  if (!transferSyntax) {
    return {
      code: 'UNSUPPORTED_TRANSFER_SYNTAX',
      message: `expected a known transfer syntax, found "${modules.fileMeta.transferSyntaxUid}"`,
    };
  }
  if (transferSyntax.encoding === 'video' || transferSyntax.encoding === 'reference') {
    return {
      code: 'UNSUPPORTED_TRANSFER_SYNTAX',
      message: `expected still-image pixel data, found ${transferSyntax.name} (${transferSyntax.uid}), which the viewer does not decode`,
    };
  }
  const pixel = modules.imagePixel;
  if (![1, 8, 16, 32].includes(pixel.bitsAllocated) || pixel.bitsStored < 1 || pixel.bitsStored > pixel.bitsAllocated) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: `expected BitsAllocated 1/8/16/32 with 1 ≤ BitsStored ≤ BitsAllocated, found ${pixel.bitsAllocated}/${pixel.bitsStored}`,
    };
  }
  if (pixel.samplesPerPixel !== 1 && pixel.samplesPerPixel !== 3) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: `expected 1 or 3 samples per pixel, found ${pixel.samplesPerPixel}`,
    };
  }
  if (pixel.rows * pixel.columns * pixel.samplesPerPixel > maxSamplesPerFrame) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: `expected at most ${maxSamplesPerFrame} samples per frame, found ${pixel.columns}×${pixel.rows}×${pixel.samplesPerPixel}`,
    };
  }
  if (pixel.rows < 1 || pixel.columns < 1) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: `expected a positive image size, found ${pixel.columns}×${pixel.rows}`,
    };
  }
  if (pixel.photometricInterpretation === 'PALETTE COLOR' && !pixel.palette) {
    return {
      code: 'UNSUPPORTED_PIXEL_FORMAT',
      message: hasSegmentedPalette(parsed.dataset)
        ? 'expected a PALETTE COLOR lookup table, found a segmented palette, which the viewer does not expand'
        : 'expected PALETTE COLOR lookup tables, found none',
    };
  }
  return null;
}

/**
 * Decodes one frame (0-based) of a fully read DICOM object: native (8/16/32-bit, signed or not, either byte order,
 * planar or interleaved, RGB/YBR/palette, 1-bit), RLE, and the compressed syntaxes through the codec packages.
 */
export async function decodeFrame(
  parsed: ParsedDicom,
  frame: number,
  what = 'image',
  options: DecodeOptions = {},
): Promise<DecodedFrame> {
  try {
    return await decodeFrameUnchecked(parsed, frame, what, options);
  } catch (error) {
    if (error instanceof DicomError) throw error;
    // Anything else (a typed-array range error on inconsistent lengths…) is still a decoding failure of this file.
    throw new DicomError(
      'DECODE_FAILED',
      `${what}: expected consistent pixel data, found: ${(error as Error).message ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function decodeFrameUnchecked(
  parsed: ParsedDicom,
  frame: number,
  what: string,
  options: DecodeOptions,
): Promise<DecodedFrame> {
  const reason = undisplayableReason(parsed);
  if (reason) throw new DicomError(reason.code as 'NO_PIXEL_DATA', `${what}: ${reason.message}`);
  const pixel = parsed.modules.imagePixel!;
  const syntax = parsed.transferSyntax!;
  if (!Number.isInteger(frame) || frame < 0 || frame >= pixel.numberOfFrames) {
    throw new DicomError(
      'FRAME_OUT_OF_RANGE',
      `${what}: expected a frame index in 0…${pixel.numberOfFrames - 1}, found ${frame}`,
    );
  }
  const element = pixelDataValue(parsed.dataset);
  if (!element || element.parts.length === 0) {
    throw new DicomError('PIXEL_DATA_TRUNCATED', `${what}: expected Pixel Data bytes, found an empty element`);
  }
  const { samplesPerPixel } = pixel;
  let { rows, columns } = pixel;
  let pixels = rows * columns;
  let scale = 1;
  const photometric = pixel.photometricInterpretation;
  let samples: Uint8Array;
  let codec: CodecOutput | null = null;
  let planar = pixel.planarConfiguration === 1;

  if (!syntax.encapsulated) {
    const all = concatBytes(element.parts.map(toBytes));
    const frameBytes = bytesPerFrame(pixel);
    if (pixel.bitsAllocated === 1) {
      const needed = Math.ceil(((frame + 1) * pixels * samplesPerPixel) / 8);
      if (all.byteLength < needed) {
        throw new DicomError(
          'PIXEL_DATA_TRUNCATED',
          `${what}: expected ${needed} bytes of 1-bit pixel data, found ${all.byteLength}`,
        );
      }
      const values = unpackBits(all, frame * pixels, pixels);
      return {
        kind: 'gray',
        rows,
        columns,
        scale,
        values,
        range: valueRange(values),
        monochrome1: photometric === 'MONOCHROME1',
      };
    }
    const start = frame * frameBytes;
    const expected = photometric === 'YBR_FULL_422' ? (pixels * 2 * pixel.bitsAllocated) / 8 : frameBytes;
    const frameStart = photometric === 'YBR_FULL_422' ? frame * expected : start;
    if (all.byteLength < frameStart + expected) {
      throw new DicomError(
        'PIXEL_DATA_TRUNCATED',
        `${what}: expected ${expected} bytes for frame ${frame + 1} of ${pixel.numberOfFrames} at offset ${frameStart}, found ${Math.max(0, all.byteLength - frameStart)}`,
      );
    }
    samples = all.subarray(frameStart, frameStart + expected);
    const wordSize = pixel.bitsAllocated / 8;
    if (!syntax.littleEndian && (wordSize > 1 || element.vr === 'OW'))
      samples = swapToLittleEndian(samples, Math.max(2, wordSize));
    if (photometric === 'YBR_FULL_422' && samplesPerPixel === 3) {
      return { kind: 'rgb', rows, columns, scale, rgb: ybrFullToRgb(expandYbr422(samples, pixels)) };
    }
  } else {
    const encoded = encapsulatedFrame(element.parts, pixel.numberOfFrames, frame, syntax.encoding);
    if (syntax.encoding === 'rle') {
      samples = decodeRleFrame(encoded, pixel);
      planar = false;
    } else if (syntax.uid === '1.2.840.10008.1.2.1.98') {
      samples = encoded;
    } else {
      const level = syntax.encoding === 'jpeg2000' ? jpeg2000Level(encoded, pixel, options.maxSide) : 0;
      codec = await decodeCompressed(parsed, encoded, what, level);
      scale = 2 ** level;
      checkGeometry(codec, pixel, scale, what);
      columns = codec.width;
      rows = codec.height;
      pixels = rows * columns;
      samples = codec.bytes;
      planar = false;
    }
  }

  if (samplesPerPixel === 3) {
    const interleaved = planar ? planarToInterleaved(samples, pixels) : samples;
    // libjpeg (baseline/extended), OpenJPEG (with its multi-component transform) and dcmjs-codecs hand back RGB;
    // JPEG-LS, RLE and native data keep the photometric interpretation of the header.
    let source = photometric;
    if (codec && syntax.encoding !== 'jpeg-ls' && !(syntax.encoding === 'jpeg2000' && photometric === 'YBR_FULL')) {
      source = 'RGB';
    }
    return { kind: 'rgb', rows, columns, scale, rgb: colorFromSamples(interleaved, pixel, pixels, source) };
  }

  const bytesPerSample = codec ? (codec.bitsPerSample > 8 ? 2 : 1) : Math.ceil(pixel.bitsAllocated / 8);
  const needed = pixels * bytesPerSample;
  if (samples.byteLength < needed) {
    throw new DicomError(
      'PIXEL_DATA_TRUNCATED',
      `${what}: expected ${needed} bytes of decoded samples, found ${samples.byteLength}`,
    );
  }
  const layout: ImagePixelModule = codec
    ? (() => {
        // Codecs return samples aligned to bit 0, whatever HighBit the header names.
        const bitsStored = Math.min(pixel.bitsStored, bytesPerSample * 8);
        return { ...pixel, bitsAllocated: bytesPerSample * 8, bitsStored, highBit: bitsStored - 1 };
      })()
    : pixel;
  const gray = grayFromLittleEndian(samples, pixels, layout, codec?.signed ?? null);
  const values = gray.values;
  const range = (codec && fixCodecSign(values, pixel, codec)) || gray.range;
  if (photometric === 'PALETTE COLOR' && pixel.palette) {
    return { kind: 'rgb', rows, columns, scale, rgb: applyPalette(values, pixel.palette) };
  }
  return { kind: 'gray', rows, columns, scale, values, range, monochrome1: photometric === 'MONOCHROME1' };
}
