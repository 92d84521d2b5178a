/**
 * The compressed-pixel decoders, all maintained packages from the npm registry, loaded lazily on first use:
 * - OpenJPEG (JPEG 2000), CharLS (JPEG-LS), libjpeg-turbo (8-bit JPEG): the cornerstone WASM builds;
 * - jpeg-lossless-decoder-js (JPEG Lossless, Process 14, any selection value);
 * - dcmjs-codecs (libjpeg with 12-bit support) for JPEG Extended 12-bit, HTJ2K and JPEG XL, which the others lack.
 * Each returns samples interleaved by pixel, 1 or 2 little-endian bytes per sample.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DicomError } from '../dicomErrors';

const nodeRequire = createRequire(import.meta.url);

export interface CodecOutput {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  /** Whether the codestream declares signed samples; null when the codec does not say. */
  signed: boolean | null;
  /** Interleaved samples: 1 byte each when bitsPerSample ≤ 8, else 2 (little-endian). */
  bytes: Uint8Array;
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  /** OpenJPEG: decode at 1/2^level of the full size (the codestream's lower resolution levels only). */
  decodeSubResolution?(level: number, layer: number): void;
  calculateSizeAtDecompositionLevel?(level: number): { width: number; height: number };
  delete(): void;
}

type EmscriptenFactory = (options: {
  print: () => void;
  printErr: () => void;
}) => Promise<Record<string, new () => EmscriptenDecoder>>;

const silent = { print: () => undefined, printErr: () => undefined };
const loaded = new Map<string, Promise<Record<string, new () => EmscriptenDecoder>>>();

function loadEmscripten(specifier: string): Promise<Record<string, new () => EmscriptenDecoder>> {
  let module = loaded.get(specifier);
  if (!module) {
    module = (nodeRequire(specifier) as EmscriptenFactory)(silent);
    loaded.set(specifier, module);
  }
  return module;
}

function copyOut(view: Uint8Array): Uint8Array {
  // The decoded buffer is a view into the WASM heap, which the next decode reuses.
  return new Uint8Array(view);
}

async function runEmscripten(
  specifier: string,
  className: string,
  data: Uint8Array,
  what: string,
  level = 0,
): Promise<CodecOutput> {
  const codec = await loadEmscripten(specifier);
  const Decoder = codec[className];
  if (!Decoder) throw new DicomError('DECODE_FAILED', `${what}: the codec package has no ${className}`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(data.length).set(data);
    if (level > 0 && decoder.decodeSubResolution) decoder.decodeSubResolution(level, 0);
    else decoder.decode();
    const info = decoder.getFrameInfo();
    // After a reduced decode the frame info still names the full size; the decoded size is the level's.
    const size = level > 0 && decoder.calculateSizeAtDecompositionLevel?.(level);
    const width = size ? size.width : info.width;
    const height = size ? size.height : info.height;
    let bytes = copyOut(decoder.getDecodedBuffer());
    if (info.componentCount > 1 && decoder.getInterleaveMode?.() === 0) {
      bytes = interleavePlanes(bytes, width * height, info.componentCount, info.bitsPerSample > 8 ? 2 : 1);
    }
    return {
      width,
      height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
      signed: info.isSigned ?? null,
      bytes,
    };
  } catch (error) {
    if (error instanceof DicomError) throw error;
    // An Emscripten abort leaves the module unusable: load a fresh instance next time.
    loaded.delete(specifier);
    throw new DicomError('DECODE_FAILED', `${what}: expected a decodable codestream, found: ${describe(error)}`, {
      cause: error,
    });
  } finally {
    try {
      decoder.delete();
    } catch {
      // the module aborted; it is discarded above
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'number') return `codec abort (${error})`;
  return String(error);
}

function interleavePlanes(planar: Uint8Array, pixels: number, components: number, bytesPerSample: number): Uint8Array {
  const out = new Uint8Array(planar.length);
  for (let c = 0; c < components; c++) {
    for (let i = 0; i < pixels; i++) {
      for (let b = 0; b < bytesPerSample; b++) {
        out[(i * components + c) * bytesPerSample + b] = planar[(c * pixels + i) * bytesPerSample + b]!;
      }
    }
  }
  return out;
}

/**
 * JPEG 2000 through OpenJPEG. `level` > 0 decodes only the codestream's resolution levels up to 1/2^level of the full
 * size (the wavelet's low-pass image: what a thumbnail or a model image needs, at a fraction of the work).
 */
export function decodeJpeg2000(data: Uint8Array, what: string, level = 0): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder', data, what, level);
}

/**
 * The number of wavelet decomposition levels of a JPEG 2000 codestream (COD marker of the main header; raw codestream
 * or JP2 file), or 0 when it cannot be read — so no reduced decode is attempted.
 */
export function jpeg2000DecompositionLevels(data: Uint8Array): number {
  let p = 0;
  if (data[4] === 0x6a && data[5] === 0x50) {
    // JP2: the codestream is the contiguous codestream box ("jp2c").
    const at = indexOfBox(data, 0x6a703263);
    if (at < 0) return 0;
    p = at;
  }
  if (data[p] !== 0xff || data[p + 1] !== 0x4f) return 0; // SOC
  p += 2;
  while (p + 4 <= data.length) {
    if (data[p] !== 0xff) return 0;
    const marker = data[p + 1]!;
    const length = (data[p + 2]! << 8) | data[p + 3]!;
    // COD: Lcod, Scod, SGcod (progression 1, layers 2, MCT 1), then SPcod's first byte: decomposition levels.
    if (marker === 0x52) return p + 9 < data.length ? data[p + 9]! : 0;
    if (marker === 0x90 || marker === 0x93) return 0; // SOT/SOD: main header over without a COD
    p += 2 + length;
  }
  return 0;
}

function indexOfBox(data: Uint8Array, type: number): number {
  let p = 0;
  while (p + 8 <= data.length) {
    const length = ((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) >>> 0;
    const boxType = ((data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!) >>> 0;
    if (boxType === type) return p + 8;
    if (length < 8) return -1; // 0 = to the end of the file, 1 = extended length: not a box before jp2c
    p += length;
  }
  return -1;
}

export function decodeJpegLs(data: Uint8Array, what: string): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder', data, what);
}

/** 8-bit JPEG (baseline, or extended with 8-bit samples); YCbCr is converted to RGB by libjpeg-turbo. */
export function decodeJpeg8(data: Uint8Array, what: string): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder', data, what);
}

interface LosslessDecoder {
  decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): ArrayBuffer | ArrayBufferView;
  xDim: number;
  yDim: number;
  numComp: number;
  precision: number;
}

export function decodeJpegLossless(data: Uint8Array, bytesPerSample: number, what: string): CodecOutput {
  const { Decoder } = nodeRequire('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };
  const decoder = new Decoder();
  try {
    const out: ArrayBuffer | ArrayBufferView = decoder.decode(
      data.buffer,
      data.byteOffset,
      data.byteLength,
      bytesPerSample,
    );
    const bytes = ArrayBuffer.isView(out)
      ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
      : new Uint8Array(out);
    return {
      width: decoder.xDim,
      height: decoder.yDim,
      components: decoder.numComp,
      bitsPerSample: decoder.precision,
      signed: null,
      bytes,
    };
  } catch (error) {
    throw new DicomError('DECODE_FAILED', `${what}: expected a JPEG Lossless codestream, found: ${describe(error)}`, {
      cause: error,
    });
  }
}

interface CodecsContext {
  getDecodedBuffer(): Uint8Array | undefined;
  getWidth(): number | undefined;
  getHeight(): number | undefined;
}
interface DcmjsCodecs {
  NativeCodecs: {
    initializeAsync(options: {
      webAssemblyModulePathOrUrl: string;
      logCodecsInfo?: boolean;
      logCodecsTrace?: boolean;
    }): Promise<void>;
    decodeJpeg(context: CodecsContext, parameters?: { convertColorspaceToRgb?: boolean }): CodecsContext;
    decodeHtJpeg2000(context: CodecsContext): CodecsContext;
    decodeJpegXl(context: CodecsContext): CodecsContext;
  };
  Context: new (attrs: Record<string, unknown>) => CodecsContext;
}

let dcmjsCodecs: Promise<DcmjsCodecs> | null = null;

function loadDcmjsCodecs(): Promise<DcmjsCodecs> {
  dcmjsCodecs ??= (async () => {
    const codecs = nodeRequire('dcmjs-codecs') as DcmjsCodecs;
    const wasm = join(dirname(nodeRequire.resolve('dcmjs-codecs')), 'dcmjs-native-codecs.wasm');
    await codecs.NativeCodecs.initializeAsync({
      webAssemblyModulePathOrUrl: wasm,
      logCodecsInfo: false,
      logCodecsTrace: false,
    });
    return codecs;
  })();
  return dcmjsCodecs;
}

export interface PixelGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
}

/** JPEG Extended 12-bit, HTJ2K and JPEG XL through dcmjs-codecs' WASM build (libjpeg 12-bit, OpenJPH, libjxl). */
export async function decodeWithDcmjsCodecs(
  kind: 'jpeg' | 'htj2k' | 'jpeg-xl',
  data: Uint8Array,
  geometry: PixelGeometry,
  what: string,
): Promise<CodecOutput> {
  const codecs = await loadDcmjsCodecs();
  try {
    const context = new codecs.Context({
      width: geometry.columns,
      height: geometry.rows,
      bitsAllocated: geometry.bitsAllocated,
      bitsStored: geometry.bitsStored,
      samplesPerPixel: geometry.samplesPerPixel,
      pixelRepresentation: geometry.pixelRepresentation,
      planarConfiguration: 0,
      photometricInterpretation: geometry.photometricInterpretation,
      encodedBuffer: data,
    });
    const result =
      kind === 'jpeg'
        ? codecs.NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: true })
        : kind === 'htj2k'
          ? codecs.NativeCodecs.decodeHtJpeg2000(context)
          : codecs.NativeCodecs.decodeJpegXl(context);
    const decoded = result.getDecodedBuffer();
    if (!decoded) throw new Error('no decoded buffer');
    return {
      width: result.getWidth() ?? geometry.columns,
      height: result.getHeight() ?? geometry.rows,
      components: geometry.samplesPerPixel,
      bitsPerSample: geometry.bitsAllocated > 8 ? geometry.bitsStored : 8,
      signed: null,
      bytes: new Uint8Array(decoded),
    };
  } catch (error) {
    throw new DicomError(
      'DECODE_FAILED',
      `${what}: expected a decodable ${kind} codestream, found: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** The sample precision in a JPEG codestream's SOF marker (8 or 12 for DCT processes), or null when absent. */
export function jpegSamplePrecision(data: Uint8Array): number | null {
  let p = 2;
  while (p + 4 < data.length) {
    if (data[p] !== 0xff) {
      p++;
      continue;
    }
    const marker = data[p + 1]!;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) {
      p += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return data[p + 4] ?? null;
    }
    p += 2 + ((data[p + 2]! << 8) | data[p + 3]!);
  }
  return null;
}
