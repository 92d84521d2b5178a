import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reranker } from '../engine/ports';
import { openStore, type Db } from '../store/openStore';
import { KnowledgeService } from './KnowledgeService';
import { HashingEmbedder } from './testSupport/HashingEmbedder';
import { projectRoot, sharedData } from './testSupport/sharedData';
import { writeTextPdf } from './testSupport/writeTextPdf';

const bundled = (name: string): string => join(projectRoot, 'resources/knowledge/medquad', name);
const cdc = bundled('9_cdc_qa.jsonl.gz');
const ninds = bundled('6_ninds_qa.jsonl.gz');
const scratch = mkdtempSync(join(tmpdir(), 'kb-service-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let db: Db;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(scratch, 'db-'));
  db = openStore(join(dir, 'kb.sqlite'));
});
afterEach(() => db.close());

describe('ingestion', () => {
  it('ingests a source in one go, keeps provenance and skips it when ingested again', async () => {
    const kb = new KnowledgeService(db);
    const first = await kb.ingest([cdc], { origin: 'bundled' });
    expect(first.files[0]).toMatchObject({ status: 'ingested', error: null });
    expect(first.passagesAdded).toBeGreaterThan(300);
    const stats = kb.stats();
    expect(stats.passages).toBe(first.passagesAdded);
    expect(stats.sources).toMatchObject([
      {
        title: 'MedQuAD — CDC',
        format: 'jsonl',
        license: 'CC BY 4.0',
        origin: 'bundled',
        passages: first.passagesAdded,
      },
    ]);
    expect(stats.embeddingModel).toBeNull();

    const again = await kb.ingest([cdc]);
    expect(again.files[0]).toMatchObject({ status: 'skipped', reason: 'already ingested', passagesAdded: 0 });
    expect(kb.stats().passages).toBe(first.passagesAdded);
  });

  it('gives the connection its own WAL checkpoint setting back after a run', async () => {
    db.pragma('wal_autocheckpoint = 500');
    const kb = new KnowledgeService(db);
    await kb.ingest([cdc, ninds]);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(500);
  });

  it('skips duplicate passages by hash across sources', async () => {
    const kb = new KnowledgeService(db);
    const text = 'Tuberculosis (TB) is caused by a bacterium called Mycobacterium tuberculosis.';
    writeFileSync(join(dir, 'a.md'), `# TB\n\n${text}\n\nThe bacteria usually attack the lungs.\n`);
    writeFileSync(join(dir, 'b.md'), `# Tuberculosis\n\n${text.toUpperCase()}\n\nTB is spread through the air.\n`);
    const summary = await kb.ingest([join(dir, 'a.md'), join(dir, 'b.md')]);
    expect(summary.files.map((f) => [f.status, f.passagesAdded, f.duplicates])).toEqual([
      ['ingested', 1, 0],
      ['ingested', 1, 0],
    ]);
    // Chunks are sections, so make a one-paragraph-per-chunk source to see the duplicate.
    writeFileSync(
      join(dir, 'c.jsonl'),
      `${JSON.stringify({ id: 1, title: 'TB', text })}\n${JSON.stringify({ id: 2, title: 'TB again', text: ` ${text} ` })}\n`,
    );
    const dup = await kb.ingest([join(dir, 'c.jsonl')]);
    expect(dup.files[0]).toMatchObject({ status: 'ingested', passagesAdded: 1, duplicates: 1 });
  });

  it('reports a bad file with its reason and goes on with the batch; nothing of it is stored', async () => {
    const kb = new KnowledgeService(db);
    writeFileSync(join(dir, 'bad.jsonl'), '{"id":1,"title":"ok","text":"fine"}\n{broken\n');
    writeFileSync(join(dir, 'notes.txt'), 'Pneumonia\n\nPneumonia is an infection of the lungs.\n');
    const summary = await kb.ingest([join(dir, 'bad.jsonl'), join(dir, 'missing.md'), join(dir, 'notes.txt')]);
    expect(summary.files.map((f) => [f.status, f.error?.code ?? null])).toEqual([
      ['failed', 'INVALID_INPUT'],
      ['failed', 'NOT_FOUND'],
      ['ingested', null],
    ]);
    expect(summary.files[0]!.error!.message).toMatch(/bad\.jsonl line 2: expected a JSON object/);
    expect(kb.stats().sources.map((s) => s.title)).toEqual(['Pneumonia']);
  });

  it('rolls a source back entirely when its transaction fails before the commit', async () => {
    const kb = new KnowledgeService(db);
    const summary = await kb.ingest([cdc, ninds], {
      beforeCommit: (file) => {
        if (file === ninds) throw new Error('disk full (simulated)');
      },
    });
    expect(summary.files.map((f) => f.status)).toEqual(['ingested', 'failed']);
    const stats = kb.stats();
    expect(stats.sources).toHaveLength(1);
    expect(stats.passages).toBe(summary.files[0]!.passagesAdded);
    expect(db.prepare('SELECT COUNT(*) AS n FROM kb_fts').get()).toEqual({ n: stats.passages });
    // The failed file is picked up by the next run (resume).
    const resumed = await kb.ingest([cdc, ninds]);
    expect(resumed.files.map((f) => f.status)).toEqual(['skipped', 'ingested']);
  });

  it('stops between files when cancelled, keeping what was committed', async () => {
    const kb = new KnowledgeService(db);
    const controller = new AbortController();
    const ingesting = kb.ingest([cdc, ninds], {
      signal: controller.signal,
      onProgress: (_report, done) => {
        if (done === 1) controller.abort();
      },
    });
    await expect(ingesting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(kb.stats().sources.map((s) => s.title)).toEqual(['MedQuAD — CDC']);
  });

  it('walks folders for supported files (MedQuAD XML, OpenStax CNXML) and writes one source per file', async () => {
    const kb = new KnowledgeService(db);
    const folder = join(dir, 'mixed');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    writeFileSync(
      join(folder, 'nested', 'eye.pdf'),
      writeTextPdf(
        [{ heading: 'Cataract', paragraphs: ['A cataract is a clouding of the lens in the eye.'] }],
        'Cataract',
      ),
    );
    writeFileSync(join(folder, 'ignored.docx'), 'x');
    const medquad = sharedData('text/medquad/5_NIDDK_QA/0000001.xml');
    const cnxml = sharedData('text/openstax_anatomy_physiology_2e/modules/m45991/index.cnxml');
    if (medquad) copyFileSync(medquad, join(folder, 'niddk.xml'));
    if (cnxml) copyFileSync(cnxml, join(folder, 'imaging.cnxml'));
    const summary = await kb.ingest([folder]);
    expect(summary.files.every((f) => f.status === 'ingested')).toBe(true);
    expect(summary.files).toHaveLength(1 + (medquad ? 1 : 0) + (cnxml ? 1 : 0));
    const pdfHit = (await kb.search('clouding of the lens', { k: 1, mode: 'lexical' })).hits[0]!;
    expect(pdfHit.provenance).toMatchObject({ page: 1, section: ['Cataract'], sourceTitle: 'Cataract' });
  });
});

describe('lexical search', () => {
  it('finds the right MedQuAD answer with full provenance and states that it is lexical-only', async () => {
    const kb = new KnowledgeService(db);
    await kb.ingest([cdc, ninds]);
    const response = await kb.search('How is taeniasis (tapeworm) infection treated?', { k: 3 });
    expect(response).toMatchObject({
      requestedMode: 'hybrid',
      mode: 'lexical',
      lexicalOnly: true,
      lexicalOnlyReason: 'no embedding model is configured',
      embeddingModel: null,
      reranked: false,
    });
    expect(response.hits).toHaveLength(3);
    const top = response.hits[0]!;
    expect(top.title).toMatch(/Taeniasis/);
    expect(top.rank).toBe(1);
    expect(top.lexicalScore).toBe(top.score);
    expect(top.vectorScore).toBeNull();
    expect(top.provenance).toMatchObject({
      sourceTitle: 'MedQuAD — CDC',
      license: 'CC BY 4.0',
      url: expect.stringMatching(/cdc\.gov/),
    });
    expect(top.provenance.section[0]).toBe('Parasites - Taeniasis');
    expect(top.provenance.documentId).toMatch(/^0000397-\d+$/);
    expect(top.text.length).toBeGreaterThan(top.snippet.length - 2);
    expect(kb.passage(top.passageId)).toMatchObject({ text: top.text, provenance: top.provenance });
    expect(response.hits.map((h) => h.score)).toEqual([...response.hits.map((h) => h.score)].sort((a, b) => b - a));
  });

  it('treats FTS5 syntax in the query as data and never raises', async () => {
    const kb = new KnowledgeService(db);
    await kb.ingest([cdc]);
    const nasty = [
      '"unbalanced',
      'NEAR(a b',
      'text: OR AND NOT',
      '*',
      '^start',
      'a - b + c',
      '(((',
      '""',
      'col:"x"*',
      '\u0000\u0001',
      'héllo wörld ÷',
      '🙂 emoji',
      "'; DROP TABLE kb_passages; --",
      'NOT',
      'OR OR',
      '{a b}',
      '',
    ];
    for (const query of nasty) {
      const response = await kb.search(query, { k: 3, mode: 'lexical' });
      expect(Array.isArray(response.hits)).toBe(true);
    }
    expect(
      (await kb.search('"salmonella" AND (NOT eggs*)', { mode: 'lexical' })).hits[0]!.text.toLowerCase(),
    ).toContain('salmonella');
    expect(kb.stats().passages).toBeGreaterThan(0);
  });

  it('validates k and mode', async () => {
    const kb = new KnowledgeService(db);
    await expect(kb.search('x', { k: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(kb.search('x', { mode: 'semantic' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await kb.search('x', { k: 1000 })).hits.length).toBe(0);
    expect(() => kb.passage(123)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('vectors, hybrid search, model identity and rerank (deterministic embedder double)', () => {
  it('embeds during ingestion and searches by vector and by RRF fusion', async () => {
    const embedder = new HashingEmbedder(256);
    const kb = new KnowledgeService(db, { embedder });
    const { passagesAdded } = await kb.ingest([cdc]);
    expect(kb.stats()).toMatchObject({
      vectors: passagesAdded,
      embeddingModel: { name: 'hashing-embedder', dims: 256 },
    });
    const vector = await kb.search('tapeworm taeniasis beef pork', { k: 5, mode: 'vector' });
    expect(vector).toMatchObject({
      mode: 'vector',
      lexicalOnly: false,
      lexicalOnlyReason: null,
      embeddingModel: expect.stringMatching(/^hashing-embedder \(256-d, /),
    });
    expect(vector.hits[0]!.vectorScore).toBeGreaterThan(0.2);
    expect(vector.hits[0]!.lexicalScore).toBeNull();
    expect(vector.hits.some((h) => /Taeniasis/.test(h.title))).toBe(true);
    const hybrid = await kb.search('tapeworm taeniasis beef pork', { k: 5, mode: 'hybrid' });
    expect(hybrid.mode).toBe('hybrid');
    const both = hybrid.hits.find((h) => h.lexicalScore !== null && h.vectorScore !== null)!;
    expect(both.score).toBeGreaterThan(1 / 61);
    expect(hybrid.hits[0]!.score).toBeLessThanOrEqual(2 / 61);
  });

  it('never mixes vectors of two models: a new model starts from zero and is filled by embedPending', async () => {
    const first = new HashingEmbedder(256, 'model-a');
    const kb = new KnowledgeService(db, { embedder: first });
    const { passagesAdded } = await kb.ingest([cdc]);
    kb.setEmbedder(new HashingEmbedder(128, 'model-b'));
    expect(kb.stats()).toMatchObject({ vectors: 0, embeddingModel: { name: 'model-b', dims: 128 } });
    const fallback = await kb.search('tapeworm', { mode: 'vector' });
    expect(fallback).toMatchObject({
      mode: 'lexical',
      lexicalOnly: true,
      lexicalOnlyReason: expect.stringMatching(/no passage has a vector from model-b/),
    });
    const progress: number[] = [];
    const result = await kb.embedPending({ batchSize: 100, onProgress: (done) => progress.push(done) });
    expect(result).toEqual({ embedded: passagesAdded, total: passagesAdded });
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(passagesAdded);
    expect(kb.stats().vectors).toBe(passagesAdded);
    // Back to the first model: its vectors are still there, untouched.
    kb.setEmbedder(first);
    expect(kb.stats().vectors).toBe(passagesAdded);
    expect((await kb.embedPending()).embedded).toBe(0);
  });

  it('resumes an interrupted embedding run where it stopped', async () => {
    const kb = new KnowledgeService(db);
    const { passagesAdded } = await kb.ingest([cdc]);
    const embedder = new HashingEmbedder(64);
    kb.setEmbedder(embedder);
    const controller = new AbortController();
    await expect(
      kb.embedPending({
        batchSize: 50,
        signal: controller.signal,
        onProgress: (done) => done >= 100 && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(kb.stats().vectors).toBe(100);
    const textsBefore = embedder.texts;
    await kb.embedPending({ batchSize: 50 });
    expect(kb.stats().vectors).toBe(passagesAdded);
    expect(embedder.texts - textsBefore).toBe(passagesAdded - 100);
  });

  it('binary prefilter + rescoring returns the exact top hits', async () => {
    const embedder = new HashingEmbedder(512);
    const exact = new KnowledgeService(db, { embedder, vectorSearch: 'exact' });
    await exact.ingest([cdc, ninds]);
    const binary = new KnowledgeService(db, { embedder, vectorSearch: 'binary' });
    for (const query of ['tapeworm infection', 'stroke rehabilitation therapy', 'flu vaccine side effects']) {
      const a = await exact.search(query, { k: 10, mode: 'vector' });
      const b = await binary.search(query, { k: 10, mode: 'vector' });
      const overlap = b.hits.filter((h) => a.hits.some((x) => x.passageId === h.passageId)).length;
      expect(overlap).toBeGreaterThanOrEqual(9);
      expect(b.hits[0]!.vectorScore).toBeCloseTo(a.hits[0]!.vectorScore!, 5);
    }
  });

  it('reorders the fused candidates with a reranker', async () => {
    const reranker: Reranker = {
      model: { path: '/r.gguf', name: 'length-reranker', sha256: 'x', sizeBytes: 0 },
      rank: async (_query, documents) => documents.map((d) => -d.length),
      dispose: async () => {},
    };
    const kb = new KnowledgeService(db, { reranker });
    await kb.ingest([cdc]);
    const response = await kb.search('vaccine', { k: 5, mode: 'lexical' });
    expect(response.reranked).toBe(true);
    const scores = response.hits.map((h) => h.rerankScore!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(response.hits[0]!.score).toBe(scores[0]);
  });

  it('removes a source with its passages, FTS rows and vectors', async () => {
    const kb = new KnowledgeService(db, { embedder: new HashingEmbedder(64) });
    await kb.ingest([cdc, ninds]);
    const [cdcSource, nindsSource] = kb.stats().sources;
    kb.removeSource(cdcSource!.id);
    const stats = kb.stats();
    expect(stats.sources.map((s) => s.id)).toEqual([nindsSource!.id]);
    expect(stats.passages).toBe(nindsSource!.passages);
    expect(stats.vectors).toBe(nindsSource!.passages);
    expect(db.prepare('SELECT COUNT(*) AS n FROM kb_vec_1').get()).toEqual({ n: nindsSource!.passages });
    expect(db.prepare('SELECT COUNT(*) AS n FROM kb_fts').get()).toEqual({ n: nindsSource!.passages });
    expect(
      (await kb.search('taeniasis tapeworm', { mode: 'hybrid', k: 3 })).hits.every(
        (h) => h.provenance.sourceId === nindsSource!.id,
      ),
    ).toBe(true);
    expect(() => kb.removeSource(cdcSource!.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('a real GGUF embedding model through node-llama-cpp (the tiny generated model of tests/fixtures)', () => {
  it('embeds passages and queries; vector hits carry the model identity', async () => {
    const { ensureTinyModels } = await import('../../../tests/fixtures/gguf/tinyModels');
    const { LlamaCppTestEmbedder } = await import('./testSupport/LlamaCppTestEmbedder');
    const models = await ensureTinyModels();
    const embedder = await LlamaCppTestEmbedder.load(models.embeddingModel, { threads: 1 });
    try {
      const kb = new KnowledgeService(db, { embedder, embeddingBatch: 8 });
      const folder = join(dir, 'small');
      mkdirSync(folder);
      writeFileSync(
        join(folder, 'a.md'),
        '# Lily\n\nOnce upon a time there was a little girl named Lily. She liked to play.\n\n## Dog\n\nThe dog ran to the park and barked at the ball.\n',
      );
      await kb.ingest([folder]);
      const stats = kb.stats();
      expect(stats).toMatchObject({
        vectors: 2,
        embeddingModel: { name: 'tiny-llama-embedding.gguf', dims: models.embeddingModelDimensions },
      });
      expect(stats.embeddingModel!.sha256).toBe(embedder.model.sha256);
      const response = await kb.search('a little girl named Lily', { k: 2, mode: 'vector' });
      expect(response.hits).toHaveLength(2);
      expect(response.embeddingModel).toBe(`tiny-llama-embedding.gguf (32-d, ${embedder.model.sha256.slice(0, 12)})`);
      expect(response.hits.every((h) => h.vectorScore !== null && Math.abs(h.vectorScore) <= 1.0001)).toBe(true);
      // The same text embeds to the same vector: a query equal to a passage's embedded text finds it first.
      const exact = await kb.search('Lily › Dog\nThe dog ran to the park and barked at the ball.', {
        k: 1,
        mode: 'vector',
      });
      expect(exact.hits[0]!.provenance.section).toEqual(['Lily', 'Dog']);
      expect(exact.hits[0]!.vectorScore).toBeCloseTo(1, 4);
    } finally {
      await embedder.dispose();
    }
  });
});
