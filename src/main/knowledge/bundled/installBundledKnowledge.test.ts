import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/openStore';
import { KnowledgeService } from '../KnowledgeService';
import { projectRoot } from '../testSupport/sharedData';
import { bundledKnowledgeFiles, installBundledKnowledge } from './installBundledKnowledge';

const resourcesDir = join(projectRoot, 'resources');
const dir = mkdtempSync(join(tmpdir(), 'kb-bundled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundled MedQuAD knowledge base (resources/knowledge/medquad)', () => {
  it('ships a compact, attributed source: seven gzipped JSONL files of a few MB in all', async () => {
    const files = await bundledKnowledgeFiles(resourcesDir);
    expect(files).toHaveLength(7);
    const { statSync } = await import('node:fs');
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
    expect(statSync(join(resourcesDir, 'knowledge/medquad/ATTRIBUTION.md')).size).toBeGreaterThan(500);
  });

  it('is built on first start with no model, once; a bundled source the user removed stays removed', async () => {
    const db = openStore(join(dir, 'kb.sqlite'));
    try {
      const kb = new KnowledgeService(db);
      const progress: string[] = [];
      const first = await installBundledKnowledge(kb, resourcesDir, {
        onProgress: (r, done, total) => progress.push(`${done}/${total} ${r.status}`),
      });
      expect(first).toEqual({ installed: 7, files: 7 });
      expect(progress).toEqual(Array.from({ length: 7 }, (_, i) => `${i + 1}/7 ingested`));
      const stats = kb.stats();
      expect(stats.passages).toBeGreaterThan(10_000);
      expect(
        stats.sources.every(
          (s) => s.origin === 'bundled' && s.license === 'CC BY 4.0' && /MedQuAD/.test(s.attribution ?? ''),
        ),
      ).toBe(true);
      const hit = (await kb.search('What are the symptoms of glaucoma?', { k: 1 })).hits[0]!;
      expect(hit.title).toMatch(/Glaucoma/i);
      expect(hit.provenance.attribution).toMatch(/Ben Abacha/);

      expect(await installBundledKnowledge(kb, resourcesDir)).toEqual({ installed: 0, files: 7 });
      kb.removeSource(stats.sources[0]!.id);
      expect(await installBundledKnowledge(kb, resourcesDir)).toEqual({ installed: 0, files: 7 });
      expect(kb.stats().sources).toHaveLength(6);
    } finally {
      db.close();
    }
  });

  it('does nothing when the resources folder has no bundled knowledge', async () => {
    const db = openStore(join(dir, 'empty.sqlite'));
    try {
      expect(await installBundledKnowledge(new KnowledgeService(db), join(dir, 'no-resources'))).toEqual({
        installed: 0,
        files: 0,
      });
    } finally {
      db.close();
    }
  });
});
