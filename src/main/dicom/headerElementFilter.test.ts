import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparable, projectRoot, realDicomFiles, sharedDicomRoot } from './testing/realDicomFiles';
import { mappedSequenceTagNumbers, mappedTagNumbers, readDicomdirEntries, Tag } from './dicomTags';
import { fileMetaLayout, keepMappedElements } from './headerElementFilter';
import { parseDicom } from './readDicom';

const root = projectRoot;
const shared = sharedDicomRoot;
const files = realDicomFiles();

const ctSmall = (): Uint8Array =>
  new Uint8Array(readFileSync(join(root, 'resources/sample-studies/pydicom/CT_small.dcm')));

/** keepMappedElements over a whole explicit VR little endian file (CT_small and files made from it). */
function keepMappedOfExplicitLe(bytes: Uint8Array, options: { stopAt?: number } = {}): Uint8Array | null {
  const layout = fileMetaLayout(bytes)!;
  return keepMappedElements(
    bytes,
    layout.datasetStart,
    { littleEndian: true, explicit: true },
    mappedTagNumbers,
    options,
  );
}

describe('top-level element filter for header-only reading', () => {
  it('keeps only the mapped elements but leaves every typed module identical', () => {
    let filtered = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const layout = fileMetaLayout(bytes);
      expect(layout, file).not.toBeNull();
      const syntax = layout!.transferSyntaxUid;
      const cut = keepMappedElements(
        bytes,
        layout!.datasetStart,
        { littleEndian: syntax !== '1.2.840.10008.1.2.2', explicit: syntax !== '1.2.840.10008.1.2' },
        mappedTagNumbers,
        { sequences: mappedSequenceTagNumbers },
      );
      if (cut) {
        filtered++;
        expect(cut.byteLength, file).toBeLessThan(bytes.byteLength);
      }
      const headerOnly = parseDicom(bytes, { headerOnly: true, what: file, dcmjsOnly: true });
      const full = parseDicom(bytes, { headerOnly: false, what: file });
      expect(comparable(headerOnly.modules), file).toBe(comparable(full.modules));
    }
    expect(filtered).toBeGreaterThan(0);
  });

  it('keeps a head chunk cut inside an element verbatim', () => {
    const bytes = ctSmall();
    const head = bytes.subarray(0, fileMetaLayout(bytes)!.datasetStart + 700);
    const cut = keepMappedOfExplicitLe(head);
    const kept = cut ?? head;
    expect(kept.subarray(kept.byteLength - 20)).toEqual(head.subarray(head.byteLength - 20));
  });

  it('keeps only the Pixel Data element header when the reader stops there', () => {
    const bytes = ctSmall();
    const cut = keepMappedOfExplicitLe(bytes, { stopAt: parseInt(Tag.PixelData, 16) })!;
    // The header without its unmapped elements, then (7FE0,0010) OW and the 4-byte length: no pixel bytes.
    expect(cut.byteLength).toBeLessThan(bytes.byteLength - 128 * 128 * 2);
    const tail = new DataView(cut.buffer, cut.byteOffset + cut.byteLength - 12, 12);
    expect([tail.getUint16(0, true), tail.getUint16(2, true)]).toEqual([0x7fe0, 0x0010]);
    expect(tail.getUint32(8, true)).toBe(128 * 128 * 2);
  });

  it('walks past a (7FE0,0000) group length to the Pixel Data header instead of keeping the pixels', () => {
    // As in pydicom's 693_UNCI.dcm: the pixel group starts with its group length.
    const original = ctSmall();
    const pixelAt = Buffer.from(original).indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    const groupLength = new Uint8Array(12);
    const view = new DataView(groupLength.buffer);
    view.setUint16(0, 0x7fe0, true);
    view.setUint16(2, 0x0000, true);
    groupLength.set([0x55, 0x4c], 4); // "UL"
    view.setUint16(6, 4, true);
    view.setUint32(8, 12 + 128 * 128 * 2, true);
    const bytes = new Uint8Array(original.byteLength + 12);
    bytes.set(original.subarray(0, pixelAt));
    bytes.set(groupLength, pixelAt);
    bytes.set(original.subarray(pixelAt), pixelAt + 12);
    const cut = keepMappedOfExplicitLe(bytes, { stopAt: parseInt(Tag.PixelData, 16) })!;
    expect(cut.byteLength).toBeLessThan(bytes.byteLength - 128 * 128 * 2);
    const tail = new DataView(cut.buffer, cut.byteOffset + cut.byteLength - 24, 24);
    expect([tail.getUint16(0, true), tail.getUint16(2, true)]).toEqual([0x7fe0, 0x0000]);
    expect([tail.getUint16(12, true), tail.getUint16(14, true)]).toEqual([0x7fe0, 0x0010]);
    const headerOnly = parseDicom(bytes, { headerOnly: true, dcmjsOnly: true });
    expect(comparable(headerOnly.modules)).toBe(comparable(parseDicom(bytes, { headerOnly: false }).modules));
  });

  it('drops every top-level element outside the mapping (private groups, acquisition parameters)', () => {
    const bytes = ctSmall();
    const cut = keepMappedOfExplicitLe(bytes)!;
    const kept = parseDicom(cut, { headerOnly: true, dcmjsOnly: true }).dataset;
    const all = parseDicom(bytes, { headerOnly: false }).dataset;
    expect(Object.keys(kept).every((tag) => mappedTagNumbers.has(parseInt(tag, 16)))).toBe(true);
    expect(Object.keys(all).some((tag) => parseInt(tag.slice(0, 4), 16) % 2 === 1)).toBe(true); // private groups exist
    expect(Object.keys(kept).length).toBeLessThan(Object.keys(all).length / 2);
  });
});

describe.skipIf(!existsSync(shared))('nested filtering inside the sequences the mapping reads', () => {
  const cutOf = (bytes: Uint8Array): Uint8Array => {
    const layout = fileMetaLayout(bytes)!;
    const explicit = layout.transferSyntaxUid !== '1.2.840.10008.1.2';
    return keepMappedElements(bytes, layout.datasetStart, { littleEndian: true, explicit }, mappedTagNumbers, {
      sequences: mappedSequenceTagNumbers,
    })!;
  };
  const count = (ds: Record<string, { Value?: unknown } | undefined>): number =>
    Object.values(ds).reduce((n, element) => {
      const items = Array.isArray(element?.Value) ? element.Value : [];
      const nested = items.filter(
        (v): v is Record<string, { Value?: unknown }> =>
          typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer),
      );
      return n + 1 + nested.reduce((m, item) => m + count(item), 0);
    }, 0);

  it('keeps every DICOMDIR reference while dropping the record elements nobody reads', () => {
    const bytes = new Uint8Array(readFileSync(join(shared, 'pydicom_dicomdirtests/DICOMDIR')));
    const cut = parseDicom(cutOf(bytes), { headerOnly: false }).dataset;
    const full = parseDicom(bytes, { headerOnly: false }).dataset;
    expect(readDicomdirEntries(cut)).toEqual(readDicomdirEntries(full));
    expect(readDicomdirEntries(cut)).toHaveLength(31);
    expect(count(cut)).toBeLessThan(count(full) * 0.6);
  });

  it('keeps per-frame functional groups and SR content items, with fewer elements in them', () => {
    for (const file of ['pydicom_data/eCT_Supplemental.dcm', 'pydicom_test_files/test-SR.dcm']) {
      const bytes = new Uint8Array(readFileSync(join(shared, file)));
      const cut = parseDicom(cutOf(bytes), { headerOnly: true, what: file, dcmjsOnly: true });
      const full = parseDicom(bytes, { headerOnly: false, what: file });
      expect(comparable(cut.modules), file).toBe(comparable(full.modules));
      expect(count(cut.dataset), file).toBeLessThan(count(full.dataset) * 0.8);
    }
  });
});
