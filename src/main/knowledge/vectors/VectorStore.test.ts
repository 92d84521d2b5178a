import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../store/migrations';
import { openStore, type Db } from '../../store/openStore';
import { knowledgeMigrations } from '../store/knowledgeSchema';
import { VectorStore } from './VectorStore';

const dims = 256;
const scratch = mkdtempSync(join(tmpdir(), 'kb-vectors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
}

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(scratch, 'db-')), 'kb.sqlite'));
  migrate(db, 'knowledge', knowledgeMigrations);
});
afterEach(() => db.close());

/** `n` passages with random vectors; returns the vectors by passage id (1-based). */
function storeVectors(n: number): { vectors: VectorStore; byId: Float32Array[] } {
  const random = seeded(n);
  const byId: Float32Array[] = [];
  db.prepare(
    "INSERT INTO kb_sources (id, title, file, format, sha256, origin, bytes, passage_count, ingested_at) VALUES (1, 's', 's', 'jsonl', 's', 'user', 0, 0, '')",
  ).run();
  const passage = db.prepare(
    "INSERT INTO kb_passages (id, source_id, ordinal, title, section, heading, char_start, char_end, text, text_hash) VALUES (?, 1, ?, 't', '[]', 't', 0, 1, ?, ?)",
  );
  const vectors = VectorStore.open(db, { name: 'random', sha256: 'r', dims });
  db.transaction(() => {
    const ids: number[] = [];
    for (let id = 1; id <= n; id++) {
      passage.run(id, id, `passage ${id}`, Buffer.from(`${id}`));
      ids.push(id);
      byId[id] = Float32Array.from({ length: dims }, random);
    }
    vectors.insert(
      ids,
      ids.map((id) => byId[id]!),
    );
  })();
  return { vectors, byId };
}

describe('VectorStore prefilter warm-up', () => {
  it('reads the codes batch by batch between other work, then searches as a cold store does', async () => {
    const n = 20_000; // three batches
    const { vectors, byId } = storeVectors(n);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const warming = vectors.warmUp();
    expect(vectors.warm).toBe(false);
    await warming;
    clearInterval(ticker);
    expect(vectors.warm).toBe(true);
    expect(turns).toBeGreaterThan(0); // the event loop ran while the codes were read
    const cold = VectorStore.open(db, { name: 'random', sha256: 'r', dims });
    for (const id of [1, 777, 19_999]) {
      const query = byId[id]!;
      expect(vectors.searchBinary(query, 5)).toEqual(cold.searchBinary(query, 5));
      expect(vectors.searchBinary(query, 1)[0]!.passageId).toBe(id);
    }
  });

  it('lets a search finish a warm-up it overtakes, and an insert meanwhile is found by the next search', async () => {
    const { vectors, byId } = storeVectors(12_000);
    // What searches ask before the prefilter is read: answered from at most n rows, never a full COUNT(*).
    expect([vectors.atLeast(1), vectors.atLeast(12_000), vectors.atLeast(12_001)]).toEqual([true, true, false]);
    const warming = vectors.warmUp();
    // The search comes before the second batch: it reads the rest at once.
    expect(vectors.searchBinary(byId[11_500]!, 1)[0]!.passageId).toBe(11_500);
    expect(vectors.warm).toBe(true);
    await warming;

    vectors.invalidate();
    const again = vectors.warmUp();
    const extra = Float32Array.from({ length: dims }, seeded(99));
    db.prepare(
      "INSERT INTO kb_passages (id, source_id, ordinal, title, section, heading, char_start, char_end, text, text_hash) VALUES (12001, 1, 12001, 't', '[]', 't', 0, 1, 'new', x'00')",
    ).run();
    vectors.insert([12_001], [extra]);
    await again;
    expect(vectors.atLeast(12_001)).toBe(true);
    expect(vectors.searchBinary(extra, 1)[0]!.passageId).toBe(12_001);
    expect(vectors.count()).toBe(12_001);
  });
});
