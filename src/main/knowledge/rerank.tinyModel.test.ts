import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import { NodeLlamaCppEmbedder } from '../engine/nodeLlamaCpp/NodeLlamaCppEmbedder';
import { NodeLlamaCppReranker } from '../engine/nodeLlamaCpp/NodeLlamaCppReranker';
import { NodeLlamaCppRuntime } from '../engine/nodeLlamaCpp/runtime';
import type { ModelIdentity, Reranker } from '../engine/ports';
import { openStore, type Db } from '../store/openStore';
import { KnowledgeService } from './KnowledgeService';
import { embeddingText } from './store/PassageRepository';
import { projectRoot } from './testSupport/sharedData';

/**
 * Hybrid search with a real cross-encoder: the engine's node-llama-cpp adapters (in this process) on the tiny
 * generated embedding model and BERT reranker, over the lung-disease answers of the bundled MedQuAD NHLBI file.
 * The reranker's weights are random, so what is checked is the plumbing: the fused candidates go to the reranker and
 * come back ordered exactly by its scores, each hit carrying its score.
 */
const scratch = mkdtempSync(join(tmpdir(), 'kb-rerank-'));
let models: TinyModels;
let runtime: NodeLlamaCppRuntime;
let embedder: NodeLlamaCppEmbedder;
let reranker: NodeLlamaCppReranker;
let db: Db;
let corpus: string;

const identity = (path: string): ModelIdentity => ({
  path,
  name: basename(path),
  sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
  sizeBytes: statSync(path).size,
});

/** The reranker, recording what the knowledge service asked and what it answered. */
class RecordingReranker implements Reranker {
  readonly calls: { query: string; documents: string[]; scores: number[] }[] = [];
  constructor(private readonly inner: Reranker) {}
  get model(): ModelIdentity {
    return this.inner.model;
  }
  async rank(query: string, documents: string[], options?: { signal?: AbortSignal }): Promise<number[]> {
    const scores = await this.inner.rank(query, documents, options);
    this.calls.push({ query, documents, scores });
    return scores;
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

beforeAll(async () => {
  models = await ensureTinyModels();
  // MedQuAD (CC BY 4.0) as bundled: its metadata line and the NHLBI answers about lung and pleural disease.
  const lines = gunzipSync(readFileSync(join(projectRoot, 'resources/knowledge/medquad/8_nhlbi_qa_xml.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter(Boolean);
  const lung = lines.filter((line, i) => i === 0 || /"title":"[^"]*(Pneumonia|Lung|Pleur|Embolism)/.test(line));
  expect(lung.length).toBeGreaterThan(30);
  corpus = join(scratch, 'nhlbi-lung.jsonl');
  writeFileSync(corpus, `${lung.join('\n')}\n`);

  runtime = new NodeLlamaCppRuntime({ logLevel: 'error' });
  embedder = await NodeLlamaCppEmbedder.load(runtime, { model: identity(models.embeddingModel), threads: 1 });
  reranker = await NodeLlamaCppReranker.load(runtime, { model: identity(models.reranker), threads: 1 });
  db = openStore(join(scratch, 'kb.sqlite'));
  const kb = new KnowledgeService(db, { embedder });
  const { files } = await kb.ingest([corpus]);
  expect(files[0]).toMatchObject({ status: 'ingested', error: null });
});

afterAll(async () => {
  db?.close();
  await reranker?.dispose();
  await embedder?.dispose();
  await runtime?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe('hybrid search reranked by the tiny real reranker', () => {
  const queries = ['What causes pneumonia?', 'pleural effusion chest pain when breathing', 'How is a pulmonary embolism diagnosed?'];

  it.each(queries)('orders the fused candidates exactly by the reranker\'s scores: "%s"', async (query) => {
    const k = 5;
    const plain = await new KnowledgeService(db, { embedder }).search(query, { k, mode: 'hybrid' });
    expect(plain).toMatchObject({ mode: 'hybrid', reranked: false });

    const recording = new RecordingReranker(reranker);
    const kb = new KnowledgeService(db, { embedder, reranker: recording });
    const response = await kb.search(query, { k, mode: 'hybrid' });
    expect(response).toMatchObject({ query, mode: 'hybrid', lexicalOnly: false, reranked: true });
    expect(response.hits).toHaveLength(k);

    // One call with the fused candidates in fusion order (its head is the unreranked answer) as the model reads them.
    expect(recording.calls).toHaveLength(1);
    const [call] = recording.calls;
    expect(call!.query).toBe(query);
    expect(call!.documents.length).toBeGreaterThanOrEqual(20);
    const textOf = (passageId: number): string => {
      const passage = kb.passage(passageId);
      return embeddingText(passage.title, passage.provenance.section, passage.text);
    };
    expect(call!.documents.slice(0, k)).toEqual(plain.hits.map((h) => textOf(h.passageId)));

    // The hits are the candidates sorted by score, highest first, each carrying its own score.
    const expected = call!.documents
      .map((document, i) => ({ document, score: call!.scores[i]! }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
    expect(response.hits.map((h) => textOf(h.passageId))).toEqual(expected.map((e) => e.document));
    expect(response.hits.map((h) => h.rerankScore)).toEqual(expected.map((e) => e.score));
    response.hits.forEach((hit, i) => {
      expect(hit.rank).toBe(i + 1);
      expect(hit.score).toBe(hit.rerankScore);
      expect(hit.rerankScore).toBeGreaterThan(0);
      expect(hit.rerankScore).toBeLessThan(1);
      // Retrieval evidence stays on the hit: each candidate came from bm25, the vectors, or both.
      expect(hit.lexicalScore !== null || hit.vectorScore !== null).toBe(true);
    });

    // The scores are the model's: the same candidates ranked again outside the service score the same.
    expect(await reranker.rank(query, call!.documents)).toEqual(call!.scores);
  });

  it('moves candidates: for at least one query the reranked top-5 differs from the fused top-5', async () => {
    let moved = 0;
    for (const query of queries) {
      const plain = await new KnowledgeService(db, { embedder }).search(query, { k: 5, mode: 'hybrid' });
      const reranked = await new KnowledgeService(db, { embedder, reranker }).search(query, { k: 5, mode: 'hybrid' });
      if (plain.hits.map((h) => h.passageId).join() !== reranked.hits.map((h) => h.passageId).join()) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('stays lexical-only without an embedding model, and still reranks', async () => {
    const response = await new KnowledgeService(db, { reranker }).search('What causes pneumonia?', { k: 3 });
    expect(response).toMatchObject({ mode: 'lexical', lexicalOnly: true, reranked: true });
    const scores = response.hits.map((h) => h.rerankScore!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });
});
