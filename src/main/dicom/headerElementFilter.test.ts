import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropPrivateElements, fileMetaLayout } from './privateElementFilter';
import { parseDicom } from './readDicom';

const root = resolve(import.meta.dirname, '../../..');
const shared = resolve(root, '../shared/data/dicom');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)],
  );
}

const files = [
  ...walk(join(root, 'resources/sample-studies')),
  ...walk(join(root, 'tests/fixtures/dicom')),
  ...(existsSync(shared) ? walk(shared) : []),
].filter((f) => readFileSync(f).subarray(128, 132).toString('latin1') === 'DICM');

/** Typed arrays (palette data) compared by content, everything else by value. */
const comparable = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v));

describe('private element filter for header-only reading', () => {
  it('drops private elements but leaves every typed module identical', () => {
    let filtered = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const layout = fileMetaLayout(bytes);
      expect(layout, file).not.toBeNull();
      const syntax = layout!.transferSyntaxUid;
      const cut = dropPrivateElements(bytes, layout!.datasetStart, {
        littleEndian: syntax !== '1.2.840.10008.1.2.2',
        explicit: syntax !== '1.2.840.10008.1.2',
      });
      if (cut) {
        filtered++;
        expect(cut.byteLength, file).toBeLessThan(bytes.byteLength);
      }
      const headerOnly = parseDicom(bytes, { headerOnly: true, what: file });
      const full = parseDicom(bytes, { headerOnly: false, what: file });
      expect(comparable(headerOnly.modules), file).toBe(comparable(full.modules));
    }
    expect(filtered).toBeGreaterThan(0);
  });

  it('keeps a head chunk cut inside an element verbatim', () => {
    const bytes = new Uint8Array(readFileSync(join(root, 'resources/sample-studies/pydicom/CT_small.dcm')));
    const layout = fileMetaLayout(bytes)!;
    const head = bytes.subarray(0, layout.datasetStart + 700);
    const cut = dropPrivateElements(head, layout.datasetStart, { littleEndian: true, explicit: true });
    const kept = cut ?? head;
    expect(kept.subarray(kept.byteLength - 20)).toEqual(head.subarray(head.byteLength - 20));
  });
});
