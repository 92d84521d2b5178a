/**
 * Header-only reading spends most of its time in dcmjs's per-element work (a Tag object, a dictionary lookup, a
 * value-accessor Proxy and, for every sequence item, a new stream with its own TextDecoder), and most of a header is
 * elements the index never reads: vendor private groups (a GE CT slice carries ~120 of its ~210), acquisition
 * parameters, referenced-image sequences. This pass walks only element boundaries (tag, VR, length; sequences of
 * undefined length by their delimiters), parses no values, and hands dcmjs the header with just the top-level elements
 * the tag mapping reads (dicomTags.ts `Tag`). On anything unexpected it keeps the rest verbatim, so dcmjs sees and
 * reports exactly what it would have seen.
 */

const longVrNames = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'];
/** VRs with a 4-byte length, keyed by their two ASCII bytes as one number (no string per element). */
const longVrCodes = new Set(longVrNames.map((vr) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)));
const longVrs = new Set(longVrNames);
const undefinedLength = 0xffffffff;
const maxDepth = 16;

interface Walker {
  view: DataView;
  littleEndian: boolean;
  explicit: boolean;
}

/** Offset just past the element starting at `offset`, or -1 when it runs past the buffer or is malformed. */
function skipElement(w: Walker, offset: number, depth: number): number {
  const { view, littleEndian } = w;
  if (offset + 8 > view.byteLength || depth > maxDepth) return -1;
  const group = view.getUint16(offset, littleEndian);
  const element = view.getUint16(offset + 2, littleEndian);
  let length: number;
  let valueStart: number;
  if (group === 0xfffe) {
    // Item-level tags are always implicit (PS3.5 7.5).
    length = view.getUint32(offset + 4, littleEndian);
    valueStart = offset + 8;
    if (element === 0xe000 && length === undefinedLength) return skipUntil(w, valueStart, 0xe00d, depth + 1);
    return element === 0xe000 ? valueStart + length : valueStart;
  }
  if (w.explicit) {
    const a = view.getUint8(offset + 4);
    const b = view.getUint8(offset + 5);
    if (a < 0x41 || a > 0x5a || b < 0x41 || b > 0x5a) return -1;
    if (longVrCodes.has((a << 8) | b)) {
      if (offset + 12 > view.byteLength) return -1;
      length = view.getUint32(offset + 8, littleEndian);
      valueStart = offset + 12;
    } else {
      length = view.getUint16(offset + 6, littleEndian);
      valueStart = offset + 8;
    }
  } else {
    length = view.getUint32(offset + 4, littleEndian);
    valueStart = offset + 8;
  }
  if (length === undefinedLength) return skipUntil(w, valueStart, 0xe0dd, depth + 1);
  const end = valueStart + length;
  return end <= view.byteLength ? end : -1;
}

/** Skips elements/items until the (FFFE,`delimiter`) item that closes them; returns the offset after it. */
function skipUntil(w: Walker, offset: number, delimiter: number, depth: number): number {
  let p = offset;
  while (p + 8 <= w.view.byteLength) {
    if (w.view.getUint16(p, w.littleEndian) === 0xfffe && w.view.getUint16(p + 2, w.littleEndian) === delimiter) {
      return p + 8;
    }
    p = skipElement(w, p, depth);
    if (p < 0) return -1;
  }
  return -1;
}

/**
 * The file bytes with only the top-level dataset elements whose tag is in `keep` (tags as `group << 16 | element`,
 * unsigned), followed verbatim by everything from the first element of group 7FE0 (pixel data) or the first element
 * the walk cannot delimit (a head chunk cut inside it). `datasetStart` is the offset after the file meta group.
 * `stopAt` names the tag where the reader stops (dcmjs `untilTag`): when the walk reaches it, only its element header
 * is kept and nothing after it. Returns null when nothing would be dropped.
 */
export function keepTopLevelElements(
  bytes: Uint8Array,
  datasetStart: number,
  syntax: { littleEndian: boolean; explicit: boolean },
  keep: ReadonlySet<number>,
  options: { stopAt?: number } = {},
): Uint8Array | null {
  const w: Walker = {
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    littleEndian: syntax.littleEndian,
    explicit: syntax.explicit,
  };
  const kept: [number, number][] = [[0, datasetStart]];
  let dropped = 0;
  let p = datasetStart;
  while (p + 8 <= bytes.byteLength) {
    const group = w.view.getUint16(p, w.littleEndian);
    if (group >= 0x7fe0) {
      // Pixel data and anything after it: kept verbatim below, except that when dcmjs stops at Pixel Data
      // (untilTag) only the element's header is needed, not the rest of the chunk.
      if (options.stopAt !== undefined && readTag(w, p) === options.stopAt) {
        kept.push([p, Math.min(bytes.byteLength, p + 12)]);
        return concatRanges(bytes, kept);
      }
      break;
    }
    const end = skipElement(w, p, 0);
    if (end < 0) break; // cut by the head chunk: kept verbatim, so dcmjs reports it as before
    if (!keep.has(readTag(w, p))) {
      dropped++;
    } else if (kept[kept.length - 1]![1] === p) {
      kept[kept.length - 1]![1] = end;
    } else {
      kept.push([p, end]);
    }
    p = end;
  }
  if (dropped === 0) return null;
  kept.push([p, bytes.byteLength]);
  return concatRanges(bytes, kept);
}

function readTag(w: Walker, offset: number): number {
  return ((w.view.getUint16(offset, w.littleEndian) << 16) | w.view.getUint16(offset + 2, w.littleEndian)) >>> 0;
}

function concatRanges(bytes: Uint8Array, ranges: [number, number][]): Uint8Array {
  const out = new Uint8Array(ranges.reduce((n, [a, b]) => n + (b - a), 0));
  let offset = 0;
  for (const [a, b] of ranges) {
    out.set(bytes.subarray(a, b), offset);
    offset += b - a;
  }
  return out;
}

/** Where the dataset starts and which transfer syntax it uses, from a Part 10 file meta group (explicit VR LE). */
export function fileMetaLayout(bytes: Uint8Array): { datasetStart: number; transferSyntaxUid: string } | null {
  if (bytes.byteLength < 144) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(132, true) !== 0x0002 || view.getUint16(134, true) !== 0x0000) return null;
  const datasetStart = 144 + view.getUint32(140, true);
  if (datasetStart > bytes.byteLength) return null;
  let p = 144;
  while (p + 8 <= datasetStart) {
    const element = view.getUint16(p + 2, true);
    const vr = String.fromCharCode(view.getUint8(p + 4), view.getUint8(p + 5));
    const long = longVrs.has(vr);
    const length = long ? view.getUint32(p + 8, true) : view.getUint16(p + 6, true);
    const valueStart = p + (long ? 12 : 8);
    if (valueStart + length > datasetStart) return null;
    if (element === 0x0010) {
      const uid = new TextDecoder('latin1').decode(bytes.subarray(valueStart, valueStart + length));
      return { datasetStart, transferSyntaxUid: uid.replace(/[\0\s]+$/, '') };
    }
    p = valueStart + length;
  }
  return null;
}
