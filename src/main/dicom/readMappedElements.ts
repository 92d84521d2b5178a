/**
 * Header-only reading of the elements the tag mapping reads, straight from the bytes. dcmjs spends ~7 µs on each
 * element it reads (a Tag object, a dictionary lookup, a value-representation object, accessor Proxies, a new stream
 * and TextDecoder per sequence item), which made it most of an import; this reader walks the same element boundaries
 * as headerElementFilter.ts and decodes only the kept values, with dcmjs's value rules (which VRs split on "\", how
 * DS/IS/UI/PN are cleaned), so that the typed modules built from either are the same — a test compares them on every
 * real file and on mutated ones.
 *
 * It reads only what it knows it reads exactly like dcmjs and returns null for everything else, and the caller then
 * parses with dcmjs: an unknown VR or a UN sequence, a character set other than the default, ISO_IR 100 or ISO_IR 192,
 * several character sets (ISO 2022 escapes), an element running past the bytes, a malformed sequence. So dcmjs still
 * decides, and names, every file that is odd.
 *
 * One deliberate difference: sequence items are decoded with the dataset's character set, as PS3.5 6.1.2.5.1 says
 * (dcmjs decodes items as Latin-1), and items that carry none of the kept elements stay in place.
 */
import type { RawDataset } from './dicomTags';
import { dcmjsItemEnd, maxDepth, readTag, skipElement, undefinedLength, type Walker } from './headerElementFilter';

export interface MappedElementSpec {
  /** Tags (`group << 16 | element`, unsigned) to read; everything else is skipped unread. */
  keep: ReadonlySet<number>;
  /** Hex keys of the kept tags, as dcmjs names them ("0020000D"). */
  hexKeys: ReadonlyMap<number, string>;
  /** Dictionary VR of each kept tag, for Implicit VR datasets. */
  dictionaryVrs: ReadonlyMap<number, string>;
  /** Where reading stops: the element is recorded as present (without its value) and nothing after it is read. */
  stopAt: number;
  /** The Specific Character Set tag, which selects the decoder of the encoded string VRs that follow it. */
  characterSetTag: number;
}

/** Thrown inside the reader for anything it leaves to dcmjs; never escapes `readMappedElements`. */
const leaveToDcmjs = Object.freeze({ leaveToDcmjs: true });

// dcmjs decodes with TextDecoder('latin1') by default (WHATWG maps it to windows-1252) and for ISO_IR 100.
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');
const decodersByCharset = new Map<string, InstanceType<typeof TextDecoder>>([
  ['', latin1],
  ['iso-ir-6', latin1],
  ['iso-ir-100', latin1],
  ['iso-ir-192', utf8],
]);

const vmDelimiter = '\\';
const unknownVr = 0;
const shortVr = 1;
/** VRs with a 4-byte length in Explicit VR (PS3.5 7.1.2). */
const longVr = 2;
/** Every VR of PS3.5 6.2, keyed by its two ASCII bytes as one number: short or long length, or unknown (0). */
const vrKinds = new Uint8Array(0x10000);
for (const vr of 'AE AS AT CS DA DS DT FD FL IS LO LT PN SH SL SS ST TM UI UL US'.split(' ')) {
  vrKinds[(vr.charCodeAt(0) << 8) | vr.charCodeAt(1)] = shortVr;
}
for (const vr of 'OB OD OF OL OV OW SQ SV UC UN UR UT UV'.split(' ')) {
  vrKinds[(vr.charCodeAt(0) << 8) | vr.charCodeAt(1)] = longVr;
}

interface Reader extends Walker {
  bytes: Uint8Array;
  /** The same bytes as a Buffer, for its native Latin-1 decoding. */
  buffer: Buffer;
  spec: MappedElementSpec;
  decoder: InstanceType<typeof TextDecoder>;
}

/**
 * Bytes as one char code each, as dcmjs's `readAsciiString` reads them (Node's "latin1" is exactly that: byte n is
 * U+00nn, unlike TextDecoder's windows-1252).
 */
function ascii(r: Reader, start: number, length: number): string {
  return r.buffer.toString('latin1', start, start + length);
}

/**
 * An encoded string VR's value through the dataset's decoder. ASCII bytes read the same in every decoder this reader
 * selects (windows-1252 and UTF-8 alike), so they take the native Latin-1 path; TextDecoder only for the rest.
 */
function encoded(r: Reader, start: number, length: number): string {
  const { bytes } = r;
  for (let i = start; i < start + length; i++) {
    if (bytes[i]! >= 0x80) return r.decoder.decode(bytes.subarray(start, start + length));
  }
  return ascii(r, start, length);
}

/** dcmjs `dropPadByte`: a multi-valued element's odd-length last value loses a trailing pad character. */
function dropPad(values: string[], pad: string): string[] {
  if (values.length > 1) {
    const last = values[values.length - 1]!;
    if (last.length % 2 !== 0 && last.endsWith(pad)) values[values.length - 1] = last.slice(0, -1);
  }
  return values;
}

function decimal(text: string): number | null {
  const cleaned = text.trim().replace(/[^0-9.\\\-+e]/gi, '');
  if (cleaned === '') return null;
  const n = Number(cleaned);
  return Number.isFinite(n) ? n : null;
}

function integer(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '' || !/^[+-]?\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

function personNames(text: string): { Alphabetic?: string; Ideographic?: string; Phonetic?: string }[] {
  return text
    .split(vmDelimiter)
    .filter(Boolean)
    .map((name) => {
      const [alphabetic, ideographic, phonetic] = name.split('=');
      const out: { Alphabetic?: string; Ideographic?: string; Phonetic?: string } = {};
      if (alphabetic) out.Alphabetic = alphabetic;
      if (ideographic) out.Ideographic = ideographic;
      if (phonetic) out.Phonetic = phonetic;
      return out;
    });
}

function numbers(r: Reader, start: number, length: number, size: number, read: (offset: number) => number): number[] {
  if (length === 0 || length % size !== 0) throw leaveToDcmjs;
  const out = new Array<number>(length / size);
  for (let i = 0; i < out.length; i++) out[i] = read(start + i * size);
  return out;
}

/** An element's Value as dcmjs gives it, for the VRs the tag mapping uses. */
function readValue(r: Reader, vr: string, start: number, length: number): unknown {
  const { view, littleEndian: le } = r;
  switch (vr) {
    case 'AE':
    case 'AS':
    case 'CS':
    case 'DA':
    case 'DT':
    case 'TM': {
      const text = ascii(r, start, length);
      // One value (most elements): no split, no pad rule (it applies to the last of several only).
      if (!text.includes(vmDelimiter)) return [text.trim()];
      return dropPad(text.split(vmDelimiter), ' ').map((v) => v.trim());
    }
    case 'DS':
      return dropPad(ascii(r, start, length).split(vmDelimiter), ' ').map(decimal);
    case 'IS':
      return dropPad(ascii(r, start, length).split(vmDelimiter), ' ').map(integer);
    case 'UI': {
      const padded = length > 0 && r.bytes[start + length - 1] === 0;
      const text = ascii(r, start, padded ? length - 1 : length);
      return dropPad(text.split(vmDelimiter), '\0').map((v) => v.replace(/[^0-9.]/g, ''));
    }
    case 'LO':
    case 'SH':
    case 'ST':
    case 'UC':
    case 'UT': {
      const text = encoded(r, start, length);
      if (!text.includes(vmDelimiter)) return [text.trim()];
      return text.split(vmDelimiter).map((v) => v.trim());
    }
    case 'LT':
      return [encoded(r, start, length).replace(/\s*$/, '')];
    case 'PN': {
      const text = encoded(r, start, length);
      return personNames(text.endsWith(' ') || text === '' ? text.slice(0, -1) : text);
    }
    case 'US':
      return numbers(r, start, length, 2, (o) => view.getUint16(o, le));
    case 'SS':
      return numbers(r, start, length, 2, (o) => view.getInt16(o, le));
    case 'UL':
      return numbers(r, start, length, 4, (o) => view.getUint32(o, le));
    case 'SL':
      return numbers(r, start, length, 4, (o) => view.getInt32(o, le));
    case 'FL':
      return numbers(r, start, length, 4, (o) => view.getFloat32(o, le));
    case 'FD':
      return numbers(r, start, length, 8, (o) => view.getFloat64(o, le));
    case 'OB':
    case 'OW':
    case 'OF':
    case 'OD':
    case 'OL':
    case 'OV':
      return [r.bytes.subarray(start, start + length)];
    default:
      throw leaveToDcmjs;
  }
}

/** String VRs whose value dcmjs does not split on "\\" when it reads them from an explicit UN element. */
const unsplitWhenUnknown = new Set(['AE', 'AS', 'DA', 'DT', 'TM', 'LO', 'SH', 'ST', 'UC', 'UT', 'UR', 'LT']);
const asciiVrs = new Set(['AE', 'AS', 'DA', 'DT', 'TM', 'UR']);

/**
 * An explicit UN element of a known tag, read as dcmjs does (`ParsedUnknownValue`): the value bytes as the
 * dictionary VR in Little Endian, with a fresh Latin-1 stream, the non-numeric string VRs unsplit.
 */
function readUnknownAs(r: Reader, vr: string, start: number, length: number): unknown {
  if (r.decoder !== latin1) throw leaveToDcmjs;
  if (unsplitWhenUnknown.has(vr)) {
    const text = asciiVrs.has(vr) ? ascii(r, start, length) : latin1.decode(r.bytes.subarray(start, start + length));
    return [text.trim()];
  }
  return readValue({ ...r, littleEndian: true }, vr, start, length);
}

/** dcmjs takes the first value and refuses a second one (ISO 2022 code extensions); so does this reader. */
function selectCharacterSet(r: Reader, value: unknown): void {
  const sets = value as string[];
  if (sets.length === 0) return;
  if (sets.length > 1) throw leaveToDcmjs;
  const decoder = decodersByCharset.get(sets[0]!.replace(/[_ ]/g, '-').toLowerCase());
  if (!decoder) throw leaveToDcmjs;
  r.decoder = decoder;
}

/** Reads a sequence's items; returns them and the offset after the sequence. */
function readItems(r: Reader, valueStart: number, length: number, depth: number): [RawDataset[], number] {
  if (depth >= maxDepth) throw leaveToDcmjs;
  const limit = length === undefinedLength ? null : valueStart + length;
  const items: RawDataset[] = [];
  let q = valueStart;
  for (;;) {
    if (limit !== null && q === limit) return [items, q];
    if (q + 8 > r.view.byteLength || (limit !== null && q > limit)) throw leaveToDcmjs;
    const tag = readTag(r, q);
    if (limit === null && tag === 0xfffee0dd) return [items, q + 8];
    if (tag !== 0xfffee000) throw leaveToDcmjs;
    const itemLength = r.view.getUint32(q + 4, r.littleEndian);
    const itemStart = q + 8;
    const [item, end] = readElements(
      r,
      itemStart,
      itemLength === undefinedLength ? null : itemStart + itemLength,
      depth + 1,
    );
    // An item whose end dcmjs would find elsewhere is malformed: dcmjs reads the file.
    if (itemLength === undefinedLength && end !== dcmjsItemEnd(r, itemStart)) throw leaveToDcmjs;
    items.push(item);
    q = end;
  }
}

/**
 * Reads the kept elements from `start` to `limit`, or, with `limit` null, to the item delimiter (consumed); at depth
 * 0, to the end of the bytes or the stop tag. Returns the dataset and the offset after it.
 */
function readElements(r: Reader, start: number, limit: number | null, depth: number): [RawDataset, number] {
  const { view, littleEndian: le, spec } = r;
  const dataset: RawDataset = {};
  let p = start;
  for (;;) {
    if (limit !== null && p >= limit) {
      if (p !== limit) throw leaveToDcmjs;
      return [dataset, p];
    }
    if (p + 8 > view.byteLength) {
      // The top level ends with the bytes (a pixel-less object read whole); anything nested must close first.
      if (depth === 0 && limit === null && p === view.byteLength) return [dataset, p];
      throw leaveToDcmjs;
    }
    const tag = readTag(r, p);
    if (depth > 0 && limit === null && tag === 0xfffee00d) {
      // dcmjs ends an item only at a delimiter of length 0 and reads on past any other.
      if (view.getUint32(p + 4, le) !== 0) throw leaveToDcmjs;
      return [dataset, p + 8];
    }
    if (depth === 0 && tag === spec.stopAt) {
      dataset[spec.hexKeys.get(tag)!] = {};
      return [dataset, p];
    }
    let valueStart: number;
    let length: number;
    let vrCode = 0;
    if (r.explicit && tag >>> 16 !== 0xfffe) {
      vrCode = (r.bytes[p + 4]! << 8) | r.bytes[p + 5]!;
      const kind = vrKinds[vrCode];
      // An element dcmjs would reject (a VR that does not exist) is for dcmjs to name, kept or not.
      if (kind === unknownVr) throw leaveToDcmjs;
      if (kind === longVr) {
        if (p + 12 > view.byteLength) throw leaveToDcmjs;
        length = view.getUint32(p + 8, le);
        valueStart = p + 12;
      } else {
        length = view.getUint16(p + 6, le);
        valueStart = p + 8;
      }
    } else {
      length = view.getUint32(p + 4, le);
      valueStart = p + 8;
    }
    if (!spec.keep.has(tag)) {
      const end = length === undefinedLength || tag >>> 16 === 0xfffe ? skipElement(r, p, depth) : valueStart + length;
      if (end < 0 || end > view.byteLength) throw leaveToDcmjs;
      p = end;
      continue;
    }
    let vr = vrCode ? String.fromCharCode(vrCode >>> 8, vrCode & 0xff) : (spec.dictionaryVrs.get(tag) ?? '');
    if (vr === 'SQ') {
      // The items' own walk finds the sequence's end (a second walk to skip it first would read it twice).
      const [items, end] = readItems(r, valueStart, length, depth);
      dataset[spec.hexKeys.get(tag)!] = { vr, Value: items };
      p = end;
      continue;
    }
    const end = valueStart + length;
    if (length === undefinedLength || end > view.byteLength) throw leaveToDcmjs;
    let value: unknown;
    if (vr === 'UN') {
      vr = spec.dictionaryVrs.get(tag) ?? '';
      if (vr === 'SQ') throw leaveToDcmjs;
      value = readUnknownAs(r, vr, valueStart, length);
    } else {
      value = readValue(r, vr, valueStart, length);
    }
    if (tag === spec.characterSetTag) selectCharacterSet(r, value);
    dataset[spec.hexKeys.get(tag)!] = { vr, Value: value };
    p = end;
  }
}

/**
 * The kept elements of a dataset (`start` is where it begins: after the file meta group, or the meta group itself
 * read as Explicit VR Little Endian up to `end`), or null when dcmjs must read it.
 */
export function readMappedElements(
  bytes: Uint8Array,
  start: number,
  syntax: { littleEndian: boolean; explicit: boolean },
  spec: MappedElementSpec,
  end: number | null = null,
): RawDataset | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, end ?? bytes.byteLength);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader: Reader = { view, bytes, buffer, spec, decoder: latin1, ...syntax };
  try {
    return readElements(reader, start, end, 0)[0];
  } catch (error) {
    if (error === leaveToDcmjs) return null;
    throw error;
  }
}
