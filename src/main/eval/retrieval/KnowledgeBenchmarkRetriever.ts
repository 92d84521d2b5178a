import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RetrievalMode } from '../../../shared/contract';
import type { Embedder, Reranker } from '../../engine/ports';
import { AppError } from '../../errors/AppError';
import { KnowledgeService } from '../../knowledge/KnowledgeService';
import { openStore, type Db } from '../../store/openStore';
import type { BenchmarkRetriever } from './retrievalBenchmark';
import type { JudgedDocument } from './judgedSets';

/** Passages fetched per query to rank documents (the knowledge service's maximum k). */
const PASSAGE_DEPTH = 100;

/**
 * The app's own knowledge search (chunking, FTS5, vectors, fusion, reranking) on a scratch store holding only the
 * judged corpus: each judged document is ingested as one JSONL record and passages are mapped back to it by
 * provenance, best passage first.
 */
export class KnowledgeBenchmarkRetriever implements BenchmarkRetriever {
  readonly description: string;
  #dir: string | null = null;
  #db: Db | null = null;
  #knowledge: KnowledgeService | null = null;

  constructor(
    private readonly options: { mode: RetrievalMode; embedder?: Embedder | null; reranker?: Reranker | null },
  ) {
    const models = [
      options.embedder?.model.name,
      options.reranker ? `rerank ${options.reranker.model.name}` : null,
    ].filter(Boolean);
    this.description = `knowledge service, ${options.mode} search${models.length ? ` (${models.join(', ')})` : ''}, documents ranked by their best passage`;
  }

  async index(documents: readonly JudgedDocument[], signal?: AbortSignal): Promise<void> {
    this.dispose();
    this.#dir = mkdtempSync(join(tmpdir(), 'medrwr-retrieval-bench-'));
    const corpus = join(this.#dir, 'judged-corpus.jsonl');
    writeFileSync(corpus, documents.map((d) => JSON.stringify({ id: d.id, title: d.title, text: d.text })).join('\n'));
    this.#db = openStore(join(this.#dir, 'bench.sqlite'));
    this.#knowledge = new KnowledgeService(this.#db, {
      embedder: this.options.embedder ?? null,
      reranker: this.options.reranker ?? null,
    });
    const summary = await this.#knowledge.ingest([corpus], { ...(signal ? { signal } : {}), license: 'benchmark' });
    const failed = summary.files.find((f) => f.error);
    if (failed?.error) throw new AppError(failed.error.code, `indexing the judged corpus: ${failed.error.message}`);
    if (this.options.embedder) await this.#knowledge.embedPending(signal ? { signal } : {});
  }

  async rank(query: string, depth: number, signal?: AbortSignal): Promise<string[]> {
    if (!this.#knowledge)
      throw new AppError('NOT_INDEXED', 'retrieval benchmark: expected index() before rank(), found no index');
    const response = await this.#knowledge.search(query, {
      k: PASSAGE_DEPTH,
      mode: this.options.mode,
      ...(signal ? { signal } : {}),
    });
    const ids: string[] = [];
    for (const hit of response.hits) {
      const id = hit.provenance.documentId;
      if (id !== null && id !== undefined && !ids.includes(id)) ids.push(id);
      if (ids.length >= depth) break;
    }
    return ids;
  }

  dispose(): void {
    this.#db?.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#db = null;
    this.#dir = null;
    this.#knowledge = null;
  }
}
