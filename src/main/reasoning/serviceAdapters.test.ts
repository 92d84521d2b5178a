import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaseSearchHit } from '../../shared/contract';
import { caseRetrieverFrom, passageRetrieverFrom } from './serviceAdapters';
import { hit, studyImage } from './testing/doubles';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medrwr-adapters-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const caseHit = (caseId: number, imagePath: string) =>
  ({ caseId, imageId: caseId * 10, score: 0.9, title: `case ${caseId}`, diagnosis: null, modality: null, plane: null, consultation: 'c', imagePath }) as CaseSearchHit & {
    imagePath: string;
  };

describe('service adapters', () => {
  it('gives the loop the whole passage text of each hit', async () => {
    const seen: unknown[] = [];
    const retriever = passageRetrieverFrom({
      search: async (query, options) => {
        seen.push([query, options.k, options.mode]);
        return { hits: [{ ...hit(5), text: 'The whole passage.' }], lexicalOnly: true };
      },
    });
    const found = await retriever.search('q', { k: 3, mode: 'hybrid' });
    expect(seen).toEqual([['q', 3, 'hybrid']]);
    expect(found).toEqual({ hits: [{ hit: expect.objectContaining({ passageId: 5 }), text: 'The whole passage.' }], lexicalOnly: true });
  });

  it('reads similar-case images from disk, skipping unreadable ones', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
    writeFileSync(join(dir, 'a.png'), png);
    writeFileSync(join(dir, 'b.jpg'), jpeg);
    let asked: unknown = null;
    const retriever = caseRetrieverFrom({
      search: async (image, k) => {
        asked = [image, k];
        return [caseHit(1, join(dir, 'gone.png')), caseHit(2, join(dir, 'a.png')), caseHit(3, join(dir, 'b.jpg'))];
      },
    });
    const study = studyImage();
    const cases = await retriever.searchByImage(study, { k: 3 });
    expect(asked).toEqual([study.bytes, 3]);
    expect(cases.map((c) => [c.hit.caseId, c.mime])).toEqual([
      [2, 'image/png'],
      [3, 'image/jpeg'],
    ]);
    expect(cases[0]!.image).toEqual({ png: new Uint8Array(png) });
    expect(cases[1]!.image).toEqual({ path: join(dir, 'b.jpg') });
  });
});

describe('knowledge fingerprint', () => {
  it('depends on what was ingested, not on its order, and is null for an empty knowledge base', async () => {
    const { knowledgeFingerprintFrom } = await import('./serviceAdapters');
    const a = knowledgeFingerprintFrom({ stats: () => ({ sources: [{ sha256: 'x' }, { sha256: 'y' }], embeddingModel: { sha256: 'e' } }) });
    const b = knowledgeFingerprintFrom({ stats: () => ({ sources: [{ sha256: 'y' }, { sha256: 'x' }], embeddingModel: null }) });
    const c = knowledgeFingerprintFrom({ stats: () => ({ sources: [{ sha256: 'y' }], embeddingModel: null }) });
    expect(a.knowledgeBase).toBe(b.knowledgeBase);
    expect(a.knowledgeBase).not.toBe(c.knowledgeBase);
    expect([a.embedding, b.embedding]).toEqual(['e', null]);
    expect(knowledgeFingerprintFrom({ stats: () => ({ sources: [], embeddingModel: null }) }).knowledgeBase).toBeNull();
  });
});
