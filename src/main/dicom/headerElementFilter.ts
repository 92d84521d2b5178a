/**
 * Header-only reading spends most of its time in dcmjs's per-element work (a Tag object, a dictionary lookup, a
 * value-accessor Proxy and, for every sequence item, a new stream with its own TextDecoder), and most of a header is
 * elements the index never reads: vendor private groups (a GE CT slice carries ~120 of its ~210), acquisition
 * parameters, referenced-image sequences, and inside the sequences it does read (per-frame functional groups, SR
 * content, DICOMDIR records) most item elements. This pass walks only element boundaries (tag, VR, length; sequences
 * of undefined length by their delimiters), parses no values, and hands dcmjs the header with just the elements the
 * tag mapping reads (dicomTags.ts `Tag`). On anything unexpected it keeps the rest verbatim, so dcmjs sees and
 * reports exactly what it would have seen.
 */

const longVrNames = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'];
/** VRs with a 4-byte length, keyed by their two ASCII bytes as one number (no string per element). */
const longVrCodes = new Set(longVrNames.map((vr) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)));
const longVrs = new Set(longVrNames);
export const undefinedLength = 0xffffffff;
export const maxDepth = 16;

export interface Walker {
  view: DataView;
  littleEndian: boolean;
  explicit: boolean;
}

/** Offset just past the element starting at `offset`, or -1 when it runs past the buffer or is malformed. */
export function skipElement(w: Walker, offset: number, depth: number): number {
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
    if (element === 0xe000 && length === undefinedLength) {
      // Only where dcmjs would end the item too: else the item is malformed in a way the two walks read differently.
      const walked = skipUntil(w, valueStart, 0xe00d, depth + 1);
      return walked >= 0 && walked === dcmjsItemEnd(w, valueStart) ? walked : -1;
    }
    // A delimiter is consumed by the walk it closes (skipUntil); met anywhere else, the header is malformed.
    return element === 0xe000 ? valueStart + length : -1;
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

/**
 * Skips elements/items until the (FFFE,`delimiter`) item that closes them; returns the offset after it. A sequence
 * (delimiter E0DD) holds only items.
 */
function skipUntil(w: Walker, offset: number, delimiter: number, depth: number): number {
  let p = offset;
  while (p + 8 <= w.view.byteLength) {
    const group = w.view.getUint16(p, w.littleEndian);
    const element = w.view.getUint16(p + 2, w.littleEndian);
    if (group === 0xfffe && element === delimiter) return p + 8;
    if (delimiter === 0xe0dd && (group !== 0xfffe || element !== 0xe000)) return -1;
    p = skipElement(w, p, depth);
    if (p < 0) return -1;
  }
  return -1;
}

/**
 * Where dcmjs ends an undefined-length item whose content starts at `start` (the offset after its delimiter), or -1
 * where it would read past the bytes or misread the item. dcmjs does not walk the item's elements: it scans two bytes
 * at a time for (FFFE,E00D) with length 0, counting the undefined-length items nested in it, and parses the bytes it
 * counted on the way (SequenceOfItems.readBytes). Its count falls short of the bytes it passed at an (FFFE,E00D) with
 * a length, and it then parses a shifted slice: -1 too. On a well-formed item this is where the element walk ends;
 * where the two differ, the walks here give the item to dcmjs whole.
 */
export function dcmjsItemEnd(w: Walker, start: number): number {
  const { view, littleEndian } = w;
  let p = start;
  let counted = 0;
  let nested = 0;
  for (;;) {
    if (p + 2 > view.byteLength) return -1;
    const group = view.getUint16(p, littleEndian);
    p += 2;
    if (group !== 0xfffe) {
      counted += 2;
      continue;
    }
    if (p + 6 > view.byteLength) return -1;
    const element = view.getUint16(p, littleEndian);
    const length = view.getUint32(p + 2, littleEndian);
    if (element === 0xe00d) {
      p += 2;
      if (length !== 0) return -1; // dcmjs counts 2 of the 4 bytes it passed: its item slice is shifted
      if (--nested < 0) return counted === p - 4 - start ? p + 4 : -1;
      counted += 4;
    } else if (element === 0xe000) {
      p += 2;
      counted += 4;
      if (length === undefinedLength) nested++;
    } else {
      counted += 2; // the next scan starts at the element half, as dcmjs's does
    }
  }
}

/** The filtered header being built: views of the source bytes and synthetic sequence/item headers. */
class Output {
  readonly parts: Uint8Array[] = [];
  length = 0;
  dropped = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly w: Walker,
  ) {}

  copy(from: number, to: number): void {
    if (to <= from) return;
    const last = this.parts[this.parts.length - 1];
    // Adjacent source ranges grow one view instead of adding another.
    if (
      last &&
      last.buffer === this.bytes.buffer &&
      last.byteOffset + last.byteLength === this.bytes.byteOffset + from
    ) {
      this.parts[this.parts.length - 1] = this.bytes.subarray(last.byteOffset - this.bytes.byteOffset, to);
    } else {
      this.parts.push(this.bytes.subarray(from, to));
    }
    this.length += to - from;
  }

  /**
   * A sequence or item header whose length is filled in by the returned function once its content is written:
   * defined lengths, because dcmjs finds the end of an undefined-length item by scanning it two bytes at a time.
   */
  header(group: number, element: number, kind: 'sequence' | 'item'): () => void {
    const sequence = kind === 'sequence' && this.w.explicit;
    const bytes = new Uint8Array(sequence ? 12 : 8);
    const view = new DataView(bytes.buffer);
    const le = this.w.littleEndian;
    view.setUint16(0, group, le);
    view.setUint16(2, element, le);
    if (sequence) {
      bytes[4] = 0x53; // "SQ", then two reserved bytes
      bytes[5] = 0x51;
    }
    this.parts.push(bytes);
    this.length += bytes.length;
    const contentStart = this.length;
    return () => view.setUint32(bytes.length - 4, this.length - contentStart, le);
  }

  /** Undoes everything written since `mark` (a nested walk that found something unexpected). */
  rewind(mark: { parts: number; length: number; dropped: number }): void {
    this.parts.length = mark.parts;
    this.length = mark.length;
    this.dropped = mark.dropped;
  }

  mark(): { parts: number; length: number; dropped: number } {
    return { parts: this.parts.length, length: this.length, dropped: this.dropped };
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }
}

interface Filter {
  keep: ReadonlySet<number>;
  sequences: ReadonlySet<number>;
}

/**
 * Writes the elements from `start` up to `limit` (or, when `limit` is null, up to the item delimiter, consumed) that
 * the filter keeps; returns the offset after them, or -1 when something is malformed (the caller rewinds).
 */
function filterElements(o: Output, f: Filter, start: number, limit: number | null, depth: number): number {
  const { w } = o;
  let p = start;
  while (limit === null || p < limit) {
    if (p + 8 > w.view.byteLength) return -1;
    const tag = readTag(w, p);
    if (limit === null && tag === 0xfffee00d) return p + 8; // item delimitation
    const end = skipElement(w, p, depth);
    if (end < 0) return -1;
    if (!f.keep.has(tag)) o.dropped++;
    else if (!f.sequences.has(tag) || filterSequence(o, f, p, depth) < 0) o.copy(p, end);
    p = end;
  }
  return p === limit ? p : -1;
}

/**
 * Writes a kept sequence with its items filtered (lengths recomputed); returns the offset after the source element,
 * or -1 (nothing written) when it is not a plain SQ or is malformed.
 */
function filterSequence(o: Output, f: Filter, p: number, depth: number): number {
  const { w } = o;
  if (depth >= maxDepth) return -1;
  let valueStart: number;
  let length: number;
  if (w.explicit) {
    // Only SQ: a UN sequence holds implicit-VR items, which dcmjs reparses itself.
    if (w.view.getUint8(p + 4) !== 0x53 || w.view.getUint8(p + 5) !== 0x51) return -1;
    length = w.view.getUint32(p + 8, w.littleEndian);
    valueStart = p + 12;
  } else {
    length = w.view.getUint32(p + 4, w.littleEndian);
    valueStart = p + 8;
  }
  const mark = o.mark();
  const fail = (): number => (o.rewind(mark), -1);
  const endSequence = o.header(
    w.view.getUint16(p, w.littleEndian),
    w.view.getUint16(p + 2, w.littleEndian),
    'sequence',
  );
  const limit = length === undefinedLength ? null : valueStart + length;
  let q = valueStart;
  for (;;) {
    if (limit !== null && q === limit) break;
    if (q + 8 > w.view.byteLength || (limit !== null && q > limit)) return fail();
    const tag = readTag(w, q);
    if (limit === null && tag === 0xfffee0dd) {
      q += 8;
      break;
    }
    if (tag !== 0xfffee000) return fail();
    const itemLength = w.view.getUint32(q + 4, w.littleEndian);
    const itemStart = q + 8;
    const endItem = o.header(0xfffe, 0xe000, 'item');
    q = filterElements(o, f, itemStart, itemLength === undefinedLength ? null : itemStart + itemLength, depth + 1);
    if (q < 0 || (itemLength === undefinedLength && q !== dcmjsItemEnd(w, itemStart))) return fail();
    endItem();
  }
  endSequence();
  return q;
}

/**
 * The file bytes with only the dataset elements whose tag is in `keep` (tags as `group << 16 | element`, unsigned) —
 * at the top level and, inside the sequences named in `sequences` (also kept), in every item — followed verbatim by
 * everything from the first element of group 7FE0 (pixel data) or the first element the walk cannot delimit (a head
 * chunk cut inside it). Filtered sequences and items get their new lengths. `datasetStart` is the offset
 * after the file meta group. `stopAt` names the tag where the reader stops (dcmjs `untilTag`): when the walk reaches
 * it, only its element header is kept and nothing after it. Returns null when nothing would be dropped.
 */
export function keepMappedElements(
  bytes: Uint8Array,
  datasetStart: number,
  syntax: { littleEndian: boolean; explicit: boolean },
  keep: ReadonlySet<number>,
  options: { sequences?: ReadonlySet<number>; stopAt?: number } = {},
): Uint8Array | null {
  const w: Walker = {
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    littleEndian: syntax.littleEndian,
    explicit: syntax.explicit,
  };
  const filter: Filter = { keep, sequences: options.sequences ?? new Set() };
  const o = new Output(bytes, w);
  o.copy(0, datasetStart);
  let p = datasetStart;
  while (p + 8 <= bytes.byteLength) {
    const group = w.view.getUint16(p, w.littleEndian);
    if (group >= 0x7fe0) {
      // Pixel data and anything after it: kept verbatim below, except that when dcmjs stops at Pixel Data
      // (untilTag) only the element's header is needed, not the rest of the chunk. Elements of the group before the
      // stop tag (a group length, (7FE0,0000)) are kept as they are and the walk goes on to it.
      const tag = readTag(w, p);
      if (options.stopAt !== undefined && tag < options.stopAt) {
        const end = skipElement(w, p, 0);
        if (end >= 0) {
          o.copy(p, end);
          p = end;
          continue;
        }
      }
      if (options.stopAt !== undefined && tag === options.stopAt) {
        o.copy(p, Math.min(bytes.byteLength, p + 12));
        return o.concat();
      }
      break;
    }
    const end = skipElement(w, p, 0);
    if (end < 0) break; // cut by the head chunk: kept verbatim, so dcmjs reports it as before
    const tag = readTag(w, p);
    if (!keep.has(tag)) o.dropped++;
    else if (!filter.sequences.has(tag) || filterSequence(o, filter, p, 0) < 0) o.copy(p, end);
    p = end;
  }
  if (o.dropped === 0) return null;
  o.copy(p, bytes.byteLength);
  return o.concat();
}

export function readTag(w: Walker, offset: number): number {
  return ((w.view.getUint16(offset, w.littleEndian) << 16) | w.view.getUint16(offset + 2, w.littleEndian)) >>> 0;
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
