import type { PreparedPassage } from '../store/PassageRepository';
import type { PreparedSource } from './prepareSource';

/**
 * A PreparedSource as it crosses from the parse worker to the writer: the passages' strings concatenated into one
 * string and their numbers in typed arrays. Cloning thousands of small objects cost the writer's thread about 45 ms
 * per bundled knowledge base (deserializing each object and its property names); one string and four buffers cost
 * a copy.
 */
export interface PackedSource {
  title: string;
  format: PreparedSource['format'];
  license: string | null;
  attribution: string | null;
  /** Each passage's string fields, in `stringFields` order, one after the other. */
  strings: string;
  /** Where each field ends in `strings`: stringFields.length per passage. */
  stringEnds: Uint32Array;
  /** Per passage: ordinal, page (−1: none), charStart, charEnd. */
  numbers: Int32Array;
  /** Per passage: bit 0 = documentId is null, bit 1 = url is null. */
  nulls: Uint8Array;
  textHashes: Uint8Array;
}

const stringFields = ['documentId', 'title', 'url', 'heading', 'sectionJson', 'text'] as const;
const numberFields = 4;
const nullDocumentId = 1;
const nullUrl = 2;

/** The packed form and the buffers to transfer with it. */
export function packSource(source: PreparedSource): { packed: PackedSource; transfer: ArrayBuffer[] } {
  const count = source.passages.length;
  const parts: string[] = new Array<string>(count * stringFields.length);
  const stringEnds = new Uint32Array(count * stringFields.length);
  const numbers = new Int32Array(count * numberFields);
  const nulls = new Uint8Array(count);
  let end = 0;
  source.passages.forEach((p, i) => {
    const fields = [p.documentId ?? '', p.title, p.url ?? '', p.heading, p.sectionJson, p.text];
    fields.forEach((field, f) => {
      parts[i * stringFields.length + f] = field;
      end += field.length;
      stringEnds[i * stringFields.length + f] = end;
    });
    numbers.set([p.ordinal, p.page ?? -1, p.charStart, p.charEnd], i * numberFields);
    nulls[i] = (p.documentId === null ? nullDocumentId : 0) | (p.url === null ? nullUrl : 0);
  });
  const packed: PackedSource = {
    title: source.title,
    format: source.format,
    license: source.license,
    attribution: source.attribution,
    strings: parts.join(''),
    stringEnds,
    numbers,
    nulls,
    textHashes: source.textHashes,
  };
  return {
    packed,
    transfer: [stringEnds.buffer, numbers.buffer, nulls.buffer, source.textHashes.buffer as ArrayBuffer],
  };
}

/** The PreparedSource a packed one was made from (passages of one section share their section array). */
export function unpackSource(packed: PackedSource): PreparedSource {
  const { strings, stringEnds, numbers, nulls } = packed;
  const sections = new Map<string, string[]>();
  const passages: PreparedPassage[] = new Array<PreparedPassage>(nulls.length);
  let start = 0;
  const next = (at: number): string => {
    const value = strings.slice(start, stringEnds[at]);
    start = stringEnds[at]!;
    return value;
  };
  for (let i = 0; i < nulls.length; i++) {
    const f = i * stringFields.length;
    const documentId = next(f);
    const title = next(f + 1);
    const url = next(f + 2);
    const heading = next(f + 3);
    const sectionJson = next(f + 4);
    const text = next(f + 5);
    let section = sections.get(sectionJson);
    if (!section) sections.set(sectionJson, (section = JSON.parse(sectionJson) as string[]));
    const n = i * numberFields;
    const page = numbers[n + 1]!;
    passages[i] = {
      ordinal: numbers[n]!,
      documentId: nulls[i]! & nullDocumentId ? null : documentId,
      title,
      url: nulls[i]! & nullUrl ? null : url,
      section,
      page: page < 0 ? null : page,
      charStart: numbers[n + 2]!,
      charEnd: numbers[n + 3]!,
      text,
      heading,
      sectionJson,
    };
  }
  return {
    title: packed.title,
    format: packed.format,
    license: packed.license,
    attribution: packed.attribution,
    passages,
    textHashes: packed.textHashes,
  };
}
