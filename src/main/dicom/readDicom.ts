import { createRequire } from 'node:module';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { concatBytes } from './concatBytes';
import type { DicomModules } from './dicomModules';
import { DicomError } from './dicomErrors';
import {
  mappedSequenceTagNumbers,
  mappedTagNumbers,
  pixelDataTag,
  readModules,
  Tag,
  transferSyntaxUidOf,
  type RawDataset,
} from './dicomTags';
import { fileMetaLayout, keepMappedElements } from './headerElementFilter';
import { readMappedElements, type MappedElementSpec } from './readMappedElements';
import { implicitVrLittleEndian, transferSyntaxInfo, type TransferSyntaxInfo } from './transferSyntax';

interface DcmjsDict {
  meta: RawDataset;
  dict: RawDataset;
}
interface Logger {
  setLevel(level: string): void;
}
interface Dcmjs {
  data: {
    DicomMetaDictionary: { dictionary: Record<string, { vr?: string } | undefined> };
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: { untilTag?: string; includeUntilTagValue?: boolean; noCopy?: boolean; ignoreErrors?: boolean },
      ): DcmjsDict;
    };
  };
  log: Logger & { getLoggers(): Record<string, Logger> };
}

const nodeRequire = createRequire(import.meta.url);
const dcmjs = nodeRequire('dcmjs') as Dcmjs;
// dcmjs logs every recoverable oddity (unknown VRs, private tags) to the console; the app reports per file instead.
dcmjs.log.setLevel('silent');
for (const logger of Object.values(dcmjs.log.getLoggers())) logger.setLevel('silent');

export interface ParsedDicom {
  modules: DicomModules;
  /** The dcmjs dataset (hex tag → element), for the pixel data and the tag mapping's readers. */
  dataset: RawDataset;
  transferSyntax: TransferSyntaxInfo | null;
  /** Whether the file's pixel data element was reached (false for header-only reads and pixel-less objects). */
  pixelDataRead: boolean;
}

const preambleLength = 128;
const pixelDataTagNumber = parseInt(pixelDataTag, 16);

function hasDicmPrefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= preambleLength + 4 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

const vrPattern =
  /^(AE|AS|AT|CS|DA|DS|DT|FD|FL|IS|LO|LT|OB|OD|OF|OL|OV|OW|PN|SH|SL|SQ|SS|ST|SV|TM|UC|UI|UL|UN|UR|US|UT|UV)$/;

/**
 * Legacy files written without the Part 10 preamble (common on old CDs) start directly with a group 0002 or 0008
 * element. They get a synthetic preamble, and a file meta group naming the transfer syntax when they have none.
 */
function withSyntheticPreamble(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < 8) return null;
  const group = bytes[0]! | (bytes[1]! << 8);
  if (group !== 0x0002 && group !== 0x0008) return null;
  const header = new Uint8Array(preambleLength + 4);
  header.set([0x44, 0x49, 0x43, 0x4d], preambleLength);
  if (group === 0x0002) return concatBytes([header, bytes]);
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  const syntax = vrPattern.test(vr) ? '1.2.840.10008.1.2.1' : implicitVrLittleEndian;
  const uid = new TextEncoder().encode(syntax.length % 2 === 0 ? syntax : `${syntax}\0`);
  const element = new Uint8Array(8 + uid.length);
  const view = new DataView(element.buffer);
  view.setUint16(0, 0x0002, true);
  view.setUint16(2, 0x0010, true);
  element.set([0x55, 0x49], 4); // "UI"
  view.setUint16(6, uid.length, true);
  element.set(uid, 8);
  const groupLength = new Uint8Array(12);
  const glView = new DataView(groupLength.buffer);
  glView.setUint16(0, 0x0002, true);
  glView.setUint16(2, 0x0000, true);
  groupLength.set([0x55, 0x4c], 4); // "UL"
  glView.setUint16(6, 4, true);
  glView.setUint32(8, element.length, true);
  return concatBytes([header, groupLength, element, bytes]);
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.subarray(0, 8);
  const printable = [...head].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  if (printable) return `text starting "${new TextDecoder().decode(head).replace(/\s+/g, ' ')}"`;
  return `bytes ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

const hexKeys = new Map([...mappedTagNumbers].map((tag) => [tag, tag.toString(16).toUpperCase().padStart(8, '0')]));
/** What the direct reader reads: the mapped tags, with dcmjs's dictionary VRs for Implicit VR datasets. */
const mappedElementSpec: MappedElementSpec = {
  keep: mappedTagNumbers,
  hexKeys,
  dictionaryVrs: new Map(
    [...hexKeys].map(([tag, hex]) => [
      tag,
      dcmjs.data.DicomMetaDictionary.dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`]?.vr ?? '',
    ]),
  ),
  stopAt: pixelDataTagNumber,
  characterSetTag: parseInt(Tag.SpecificCharacterSet, 16),
};

/**
 * The file meta group and the mapped dataset elements of a Part 10 header, read without dcmjs (readMappedElements.ts),
 * or null when dcmjs must read it.
 */
export function readMappedHeader(bytes: Uint8Array): DcmjsDict | null {
  const layout = fileMetaLayout(bytes);
  const syntax = layout ? transferSyntaxInfo(layout.transferSyntaxUid) : null;
  if (!layout || !syntax || syntax.uid === '1.2.840.10008.1.2.1.99') return null;
  const meta = readMappedElements(
    bytes,
    preambleLength + 4,
    { littleEndian: true, explicit: true },
    mappedElementSpec,
    layout.datasetStart,
  );
  // The syntax the dataset is read with must be the one dcmjs takes from the meta group, or dcmjs decides.
  if (!meta || transferSyntaxUidOf(meta) !== layout.transferSyntaxUid) return null;
  const dict = readMappedElements(
    bytes,
    layout.datasetStart,
    { littleEndian: syntax.littleEndian, explicit: syntax.uid !== implicitVrLittleEndian },
    mappedElementSpec,
  );
  return dict ? { meta, dict } : null;
}

/** The header with only the elements the tag mapping reads, when that is safe to cut. */
function withMappedElementsOnly(bytes: Uint8Array): Uint8Array {
  const layout = fileMetaLayout(bytes);
  const syntax = layout ? transferSyntaxInfo(layout.transferSyntaxUid) : null;
  if (!layout || !syntax || syntax.uid === '1.2.840.10008.1.2.1.99') return bytes;
  return (
    keepMappedElements(
      bytes,
      layout.datasetStart,
      { littleEndian: syntax.littleEndian, explicit: syntax.uid !== implicitVrLittleEndian },
      mappedTagNumbers,
      { sequences: mappedSequenceTagNumbers, stopAt: pixelDataTagNumber },
    ) ?? bytes
  );
}

/**
 * Parses DICOM bytes into typed modules. `headerOnly` stops at the Pixel Data element (the index never reads pixels)
 * and reads the mapped elements directly where it can (readMappedElements.ts), with dcmjs otherwise; a full parse
 * (dcmjs) keeps the pixel data as views of `bytes` (no copy).
 * Throws DicomError NOT_DICOM / DICOM_TRUNCATED / DICOM_MALFORMED with what was found.
 */
export function parseDicom(
  bytes: Uint8Array,
  options: {
    headerOnly: boolean;
    what?: string;
    /** Header-only reads with dcmjs even where the direct reader could (the reference it is tested against). */
    dcmjsOnly?: boolean;
  },
): ParsedDicom {
  const what = options.what ?? 'file';
  let input = bytes;
  let hasPreamble = true;
  if (!hasDicmPrefix(bytes)) {
    const synthetic = withSyntheticPreamble(bytes);
    if (!synthetic) {
      throw new DicomError(
        'NOT_DICOM',
        `${what}: expected a DICOM Part 10 file ("DICM" at byte 128) or a raw DICOM dataset, found ${describeStart(bytes)}`,
      );
    }
    input = synthetic;
    hasPreamble = false;
  }
  const direct = options.headerOnly && hasPreamble && !options.dcmjsOnly ? readMappedHeader(input) : null;
  if (direct) return toParsedDicom(direct, hasPreamble);
  if (options.headerOnly && hasPreamble) input = withMappedElementsOnly(input);
  let parsed: DcmjsDict;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(
      toArrayBuffer(input),
      options.headerOnly ? { untilTag: pixelDataTag, includeUntilTagValue: false, noCopy: true } : { noCopy: true },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RangeError || /outside the bounds|out of range|beyond|end of/i.test(message)) {
      throw new DicomError(
        'DICOM_TRUNCATED',
        `${what}: expected a complete DICOM dataset, found it cut short (${message})`,
        {
          cause: error,
        },
      );
    }
    throw new DicomError('DICOM_MALFORMED', `${what}: expected a well-formed DICOM dataset, found: ${message}`, {
      cause: error,
    });
  }
  return toParsedDicom(parsed, hasPreamble);
}

function toParsedDicom(parsed: DcmjsDict, hasPreamble: boolean): ParsedDicom {
  const transferSyntax = transferSyntaxInfo(transferSyntaxUidOf(parsed.meta));
  const modules = readModules(parsed.meta, parsed.dict, {
    littleEndian: transferSyntax?.littleEndian ?? true,
    hasPreamble,
  });
  const pixelElement = parsed.dict[pixelDataTag];
  return {
    modules,
    dataset: parsed.dict,
    transferSyntax,
    pixelDataRead: pixelElement !== undefined && Array.isArray(pixelElement.Value),
  };
}

/**
 * A buffer for a file head, not zero-filled: only the bytes the read wrote are looked at, and zeroing 64 KiB per file
 * was a tenth of a worker's header read.
 */
function headBuffer(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafe(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Sizes of the head read by `readDicomHeader` before falling back to the whole file. */
const headChunks = [64 * 1024, 1024 * 1024];

export interface DicomHeader {
  parsed: ParsedDicom;
  size: number;
  mtimeMs: number;
  /** Whether the bytes parsed were the whole file (so the dataset holds every element, e.g. a DICOMDIR's records). */
  wholeFile: boolean;
}

/** One step of header reading: parse `bytes` (the first `bytes.length` bytes of the file) or ask for more. */
function headerFromHead(
  path: string,
  bytes: Uint8Array,
  chunk: number,
): { parsed: ParsedDicom; wholeFile: boolean } | null {
  const wholeFile = bytes.byteLength < chunk;
  let parsed: ParsedDicom;
  try {
    parsed = parseDicom(bytes, { headerOnly: true, what: path });
  } catch (error) {
    if (wholeFile || (error instanceof DicomError && error.code === 'NOT_DICOM')) throw error;
    return null;
  }
  // Reaching the pixel data element proves the header was complete within the chunk.
  return wholeFile || parsed.dataset[pixelDataTag] !== undefined ? { parsed, wholeFile } : null;
}

/**
 * Reads only as much of a file as its header needs (the first 64 KiB, then 1 MiB, then all of it for very long
 * headers such as enhanced multi-frame functional groups) and parses it up to the Pixel Data element. One open and,
 * for almost every file, one read; `known` (size and mtime from the folder walk) saves the stat.
 */
export async function readDicomHeader(path: string, known?: { size: number; mtimeMs: number }): Promise<DicomHeader> {
  const handle = await open(path, 'r');
  try {
    const { size, mtimeMs } = known ?? (await handle.stat());
    for (const chunk of [...headChunks, Infinity]) {
      const buffer = headBuffer(Math.min(chunk, size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0);
      const head = headerFromHead(path, buffer.subarray(0, bytesRead), chunk);
      if (head) return { ...head, size, mtimeMs };
    }
    throw new DicomError('DICOM_TRUNCATED', `${path}: expected a complete DICOM header, found the file cut short`);
  } finally {
    await handle.close();
  }
}

/**
 * `readDicomHeader` with blocking reads: for worker threads, where a few synchronous 64 KiB reads cost less than the
 * round trips of asynchronous ones (and block nothing that waits).
 */
export function readDicomHeaderSync(path: string, known?: { size: number; mtimeMs: number }): DicomHeader {
  const fd = openSync(path, 'r');
  try {
    const { size, mtimeMs } = known ?? fstatSync(fd);
    for (const chunk of [...headChunks, Infinity]) {
      const buffer = headBuffer(Math.min(chunk, size));
      const bytesRead = readSync(fd, buffer, 0, buffer.byteLength, 0);
      const head = headerFromHead(path, buffer.subarray(0, bytesRead), chunk);
      if (head) return { ...head, size, mtimeMs };
    }
    throw new DicomError('DICOM_TRUNCATED', `${path}: expected a complete DICOM header, found the file cut short`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Native pixel data is almost always the file's last element. When the header parse stopped at Pixel Data and the
 * element header sits exactly where a value of the expected length would start, the value is taken from the tail
 * without a second dcmjs pass over the dataset; anything else (trailing elements, odd lengths) returns null.
 */
function nativePixelDataFromTail(bytes: Uint8Array, head: ParsedDicom): ParsedDicom | null {
  const syntax = head.transferSyntax;
  const pixel = head.modules.imagePixel;
  if (
    !syntax ||
    syntax.encapsulated ||
    syntax.uid === '1.2.840.10008.1.2.1.99' ||
    !pixel ||
    !head.modules.fileMeta.hasPreamble
  ) {
    return null;
  }
  if (head.dataset[pixelDataTag] === undefined) return null;
  const samples = pixel.rows * pixel.columns * pixel.samplesPerPixel * pixel.numberOfFrames;
  const length = Math.ceil((samples * pixel.bitsAllocated) / 8);
  const padded = length + (length % 2);
  const explicit = syntax.uid !== implicitVrLittleEndian;
  const start = bytes.byteLength - padded;
  const headerStart = start - (explicit ? 12 : 8);
  if (headerStart < 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + headerStart, explicit ? 12 : 8);
  const le = syntax.littleEndian;
  if (view.getUint16(0, le) !== 0x7fe0 || view.getUint16(2, le) !== 0x0010) return null;
  let vr = pixel.bitsAllocated > 8 ? 'OW' : 'OB';
  if (explicit) {
    vr = String.fromCharCode(view.getUint8(4), view.getUint8(5));
    if ((vr !== 'OW' && vr !== 'OB') || view.getUint32(8, le) !== padded) return null;
  } else if (view.getUint32(4, true) !== padded) {
    return null;
  }
  head.dataset[pixelDataTag] = { vr, Value: [bytes.subarray(start, start + length)] };
  return { ...head, pixelDataRead: true };
}

/** Reads and parses a whole file, pixel data included (for decoding). */
export async function readDicomFile(path: string): Promise<ParsedDicom> {
  const buffer = await readFile(path);
  return parseDicomBytes(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
}

/** Parses file bytes for decoding: the header with dcmjs, native pixel data from the file's tail when it is there. */
export function parseDicomBytes(bytes: Uint8Array, what = 'file'): ParsedDicom {
  const head = parseDicom(bytes, { headerOnly: true, what });
  return nativePixelDataFromTail(bytes, head) ?? parseDicom(bytes, { headerOnly: false, what });
}
