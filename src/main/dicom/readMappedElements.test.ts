/**
 * The direct header reader against dcmjs: the same typed modules from every real file (whole and as the 64 KiB head
 * the import reads), and crafted headers for what the real files do not carry (character sets, UN elements, unclean
 * numbers, empty functional-group items, truncation).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { comparable, realDicomFiles, sharedDicomRoot } from './testing/realDicomFiles';
import { concatBytes } from './concatBytes';
import { DicomError } from './dicomErrors';
import { Tag } from './dicomTags';
import { parseDicom, readMappedHeader, type ParsedDicom } from './readDicom';

const shared = sharedDicomRoot;
const files = realDicomFiles();

type Outcome = { modules: string; pixelDataReached: boolean } | { code: string };

function outcome(bytes: Uint8Array, dcmjsOnly: boolean): Outcome {
  try {
    const parsed = parseDicom(bytes, { headerOnly: true, dcmjsOnly });
    return { modules: comparable(parsed.modules), pixelDataReached: parsed.dataset[Tag.PixelData] !== undefined };
  } catch (error) {
    if (error instanceof DicomError) return { code: error.code };
    throw error;
  }
}

// --- a minimal Part 10 writer for crafted headers -------------------------------------------------------------

const longVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);

function tagNumber(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 4), 16), parseInt(hex.slice(4), 16)];
}

/** One Explicit VR Little Endian element; string values are padded to even length as the standard says. */
function el(tag: string, vr: string, value: string | Uint8Array, length?: number): Uint8Array {
  let body = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (body.length % 2 === 1) body = concatBytes([body, new Uint8Array([vr === 'UI' ? 0 : 0x20])]);
  const long = longVrs.has(vr);
  const header = new Uint8Array(long ? 12 : 8);
  const view = new DataView(header.buffer);
  const [group, element] = tagNumber(tag);
  view.setUint16(0, group, true);
  view.setUint16(2, element, true);
  header[4] = vr.charCodeAt(0);
  header[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, length ?? body.length, true);
  else view.setUint16(6, length ?? body.length, true);
  return concatBytes([header, body]);
}

function us(tag: string, value: number): Uint8Array {
  const body = new Uint8Array(2);
  new DataView(body.buffer).setUint16(0, value, true);
  return el(tag, 'US', body);
}

/** A sequence of defined length whose items hold the given elements. */
function sq(tag: string, items: Uint8Array[][]): Uint8Array {
  const encoded = items.map((elements) => {
    const content = concatBytes(elements);
    const header = new Uint8Array(8);
    const view = new DataView(header.buffer);
    view.setUint16(0, 0xfffe, true);
    view.setUint16(2, 0xe000, true);
    view.setUint32(4, content.length, true);
    return concatBytes([header, content]);
  });
  return el(tag, 'SQ', concatBytes(encoded));
}

/** Preamble, "DICM", a file meta group naming `syntax`, then the dataset elements. */
function part10(dataset: Uint8Array[], syntax = '1.2.840.10008.1.2.1'): Uint8Array {
  const meta = concatBytes([
    el(Tag.MediaStorageSopClassUid, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    el(Tag.MediaStorageSopInstanceUid, 'UI', '1.2.3.4.5'),
    el(Tag.TransferSyntaxUid, 'UI', syntax),
  ]);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, meta.length, true);
  const prefix = new Uint8Array(132);
  prefix.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concatBytes([prefix, el('00020000', 'UL', groupLength), meta, ...dataset]);
}

const identity = [
  el(Tag.SopClassUid, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
  el(Tag.SopInstanceUid, 'UI', '1.2.3.4.5'),
  el(Tag.StudyInstanceUid, 'UI', '1.2.3.4'),
  el(Tag.SeriesInstanceUid, 'UI', '1.2.3.4.1'),
];

function parsedBothWays(bytes: Uint8Array): { direct: ParsedDicom; dcmjs: ParsedDicom } {
  return {
    direct: parseDicom(bytes, { headerOnly: true }),
    dcmjs: parseDicom(bytes, { headerOnly: true, dcmjsOnly: true }),
  };
}

describe('direct reader of the mapped header elements', () => {
  it('builds the same typed modules as dcmjs from every real file, whole and as the 64 KiB head', () => {
    let compared = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      // The direct reader, not the fallback, reads every one of these files.
      expect(readMappedHeader(bytes), file).not.toBeNull();
      for (const input of [bytes, bytes.subarray(0, 64 * 1024)]) {
        expect(outcome(input, false), `${file} (${input.byteLength} bytes)`).toEqual(outcome(input, true));
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2 * 14);
    if (existsSync(shared)) expect(compared).toBeGreaterThanOrEqual(2 * 69);
  });

  it('decodes encoded strings with the dataset character set (ISO_IR 192, ISO_IR 100)', () => {
    for (const [charset, name] of [
      ['ISO_IR 192', 'Müller^Zoë'],
      ['ISO_IR 100', 'Müller^Zoë'],
    ] as const) {
      const encoded =
        charset === 'ISO_IR 192' ? new TextEncoder().encode(name) : Uint8Array.from(name, (c) => c.charCodeAt(0));
      const bytes = part10([
        el(Tag.SpecificCharacterSet, 'CS', charset),
        ...identity,
        el(Tag.PatientName, 'PN', encoded),
      ]);
      expect(readMappedHeader(bytes)).not.toBeNull();
      const { direct, dcmjs } = parsedBothWays(bytes);
      expect(direct.modules.patient.name.family).toBe('Müller');
      expect(direct.modules.patient.name.given).toBe('Zoë');
      expect(comparable(direct.modules)).toBe(comparable(dcmjs.modules));
    }
  });

  it('leaves other character sets, and several of them, to dcmjs', () => {
    const withCharset = (charset: string): Uint8Array =>
      part10([el(Tag.SpecificCharacterSet, 'CS', charset), ...identity, el(Tag.PatientName, 'PN', 'Yamada^Tarou')]);
    const shiftJis = withCharset('ISO_IR 13');
    expect(readMappedHeader(shiftJis)).toBeNull();
    expect(parseDicom(shiftJis, { headerOnly: true }).modules.patient.name.family).toBe('Yamada');
    // ISO 2022 code extensions: dcmjs refuses them, and the file fails with its reason.
    const iso2022 = withCharset('\\ISO 2022 IR 87');
    expect(readMappedHeader(iso2022)).toBeNull();
    expect(() => parseDicom(iso2022, { headerOnly: true })).toThrow(/multiple character sets/);
  });

  it('reads an explicit UN element of a known tag with its dictionary VR, as dcmjs does', () => {
    const rows = new Uint8Array([0x00, 0x02]); // 512, little endian
    const bytes = part10([
      ...identity,
      el(Tag.Rows, 'UN', rows),
      us(Tag.Columns, 256),
      us(Tag.BitsAllocated, 16),
      el(Tag.StudyDescription, 'UN', 'CT\\HEAD'),
    ]);
    const { direct, dcmjs } = parsedBothWays(bytes);
    expect(direct.modules.imagePixel?.rows).toBe(512);
    // dcmjs does not split an LO read from UN on "\": neither does the direct reader.
    expect(direct.modules.study.description).toBe('CT\\HEAD');
    expect(comparable(direct.modules)).toBe(comparable(dcmjs.modules));
  });

  it('cleans numbers as dcmjs does: DS with units, IS with a decimal point, UI with stray characters', () => {
    const bytes = part10([
      ...identity,
      el(Tag.PixelSpacing, 'DS', '0.5mm\\0.75 '),
      el(Tag.InstanceNumber, 'IS', '1.5'),
      el(Tag.SeriesNumber, 'IS', ' +7'),
      el(Tag.FrameOfReferenceUid, 'UI', '1.2.3 x'),
    ]);
    const { direct, dcmjs } = parsedBothWays(bytes);
    expect(direct.modules.imagePlane.pixelSpacing).toEqual([0.5, 0.75]);
    expect(direct.modules.instance.instanceNumber).toBeNull();
    expect(direct.modules.series.seriesNumber).toBe(7);
    expect(direct.modules.series.frameOfReferenceUid).toBe('1.2.3');
    expect(comparable(direct.modules)).toBe(comparable(dcmjs.modules));
  });

  it('keeps a functional-group item without mapped elements in place, so later frames keep their positions', () => {
    const position = (z: string): Uint8Array[] => [
      sq(Tag.PlanePositionSequence, [[el(Tag.ImagePositionPatient, 'DS', `0\\0\\${z}`)]]),
    ];
    const bytes = part10([
      ...identity,
      el(Tag.NumberOfFrames, 'IS', '3'),
      us(Tag.Rows, 4),
      us(Tag.Columns, 4),
      us(Tag.BitsAllocated, 16),
      sq(Tag.PerFrameFunctionalGroupsSequence, [
        [el('00189151', 'DT', '20200101')], // Frame Reference DateTime only: nothing the mapping reads
        position('5'),
        position('10'),
      ]),
    ]);
    const frames = parseDicom(bytes, { headerOnly: true }).modules.multiFrame!.frames;
    expect(frames.map((f) => f.position?.[2] ?? null)).toEqual([null, 5, 10]);
  });

  it('leaves a header cut inside an element to dcmjs (the import then reads more of the file)', () => {
    const whole = part10([...identity, el(Tag.PatientName, 'PN', 'Doe^Jane'), el(Tag.StudyDescription, 'LO', 'CHEST')]);
    const cut = whole.subarray(0, whole.length - 3);
    expect(readMappedHeader(whole)).not.toBeNull();
    expect(readMappedHeader(cut)).toBeNull();
    expect(outcome(cut, false)).toEqual(outcome(cut, true));
  });

  it('leaves a stray delimiter, or an item dcmjs would end elsewhere, to dcmjs (spliced or corrupted headers)', () => {
    const delimiter = (element: number, length: number): Uint8Array => {
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      view.setUint16(0, 0xfffe, true);
      view.setUint16(2, element, true);
      view.setUint32(4, length, true);
      return bytes;
    };
    const undefinedItem = (content: Uint8Array[], end: Uint8Array): Uint8Array =>
      concatBytes([delimiter(0xe000, 0xffffffff), ...content, end]);
    const undefinedSequence = (tag: string, items: Uint8Array[]): Uint8Array =>
      concatBytes([el(tag, 'SQ', new Uint8Array(0), 0xffffffff), ...items, delimiter(0xe0dd, 0)]);
    const codes = '00400260'; // Performed Protocol Code Sequence: nothing the mapping reads
    const wellFormed = part10([
      ...identity,
      undefinedSequence(codes, [undefinedItem([el(Tag.CodeValue, 'SH', 'X1')], delimiter(0xe00d, 0))]),
      el(Tag.PatientName, 'PN', 'Doe^Jane'),
    ]);
    expect(readMappedHeader(wellFormed)).not.toBeNull();
    const cases = {
      'a stray item delimiter after the sequence': part10([
        ...identity,
        undefinedSequence(codes, [undefinedItem([el(Tag.CodeValue, 'SH', 'X1')], delimiter(0xe00d, 0))]),
        delimiter(0xe00d, 0),
        el(Tag.PatientName, 'PN', 'Doe^Jane'),
      ]),
      'an item delimiter with a length': part10([
        ...identity,
        undefinedSequence(codes, [undefinedItem([el(Tag.CodeValue, 'SH', 'X1')], delimiter(0xe00d, 4))]),
        el(Tag.PatientName, 'PN', 'Doe^Jane'),
      ]),
    };
    for (const [what, bytes] of Object.entries(cases)) {
      expect(readMappedHeader(bytes), what).toBeNull();
      expect(outcome(bytes, false), what).toEqual(outcome(bytes, true));
    }
  });

  it('records the Pixel Data element without reading its value', () => {
    const pixels = new Uint8Array(4 * 4 * 2);
    const bytes = part10([...identity, us(Tag.Rows, 4), us(Tag.Columns, 4), el(Tag.PixelData, 'OW', pixels)]);
    const parsed = parseDicom(bytes, { headerOnly: true });
    expect(parsed.dataset[Tag.PixelData]).toBeDefined();
    expect(parsed.pixelDataRead).toBe(false);
    expect(parsed.modules.hasPixelData).toBe(true);
  });
});
