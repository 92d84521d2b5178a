import { throwIfAborted } from '../../errors/AppError';
import { evaluateRankings, type RankedQuery } from '../metrics/ranking';
import { latencySummary } from '../metrics/summaryStats';
import type { LatencySummary } from '../../../shared/contract';
import type { JudgedDocument, JudgedSet } from './judgedSets';

/** What the benchmark measures: something that indexes the judged corpus and ranks its documents for a query. */
export interface BenchmarkRetriever {
  /** What is measured (retrieval mode, models), for the printout. */
  readonly description: string;
  index(documents: readonly JudgedDocument[], signal?: AbortSignal): Promise<void>;
  /** Document ids, best first, at most `depth` of them. */
  rank(query: string, depth: number, signal?: AbortSignal): Promise<string[]>;
}

export interface RetrievalBenchmarkOptions {
  /** Cut-offs for recall@k. Defaults to [1, 3, 5, 10, 20]. */
  recallKs?: number[];
  /** Cut-off of nDCG, precision and MRR. Defaults to 10. */
  k?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RetrievalBenchmarkReport {
  set: string;
  grading: string;
  retriever: string;
  documents: number;
  /** Queries with at least one relevant judged document (gain ≥ the set's relevantFrom): averaged for recall, P, MRR. */
  queries: number;
  /** Queries without such a document, left out of those means. */
  skipped: number;
  k: number;
  /** Mean nDCG@k over the queries with any positive gain (graded: partial relevance counts). */
  ndcg: number;
  ndcgQueries: number;
  precision: number;
  mrr: number;
  recall: { k: number; value: number }[];
  perQuery: { id: string; ndcg: number; recall: number; reciprocalRank: number; ranked: string[] }[];
  indexMs: number;
  queryLatency: LatencySummary;
}

/**
 * nDCG@k, recall@k, precision@k and MRR of a retriever on a judged set, with the knowledge issue's ranking metrics
 * (src/main/eval/metrics/ranking.ts: linear gains as trec_eval, unjudged = not relevant).
 */
export async function runRetrievalBenchmark(
  set: JudgedSet,
  retriever: BenchmarkRetriever,
  options: RetrievalBenchmarkOptions = {},
): Promise<RetrievalBenchmarkReport> {
  const k = options.k ?? 10;
  const recallKs = options.recallKs ?? [1, 3, 5, 10, 20];
  const depth = Math.max(k, ...recallKs);
  const indexStarted = performance.now();
  await retriever.index(set.documents, options.signal);
  const indexMs = performance.now() - indexStarted;

  const ranked: RankedQuery<string>[] = [];
  const latencies: number[] = [];
  for (const [i, query] of set.queries.entries()) {
    throwIfAborted(options.signal, 'retrieval benchmark');
    const started = performance.now();
    const ids = await retriever.rank(query.text, depth, options.signal);
    latencies.push(performance.now() - started);
    ranked.push({ id: query.id, ranked: ids, judgments: set.qrels.get(query.id) ?? new Map() });
    options.onProgress?.(i + 1, set.queries.length);
  }
  const main = evaluateRankings(ranked, { k, relevantFrom: set.relevantFrom });
  const graded = evaluateRankings(ranked, { k, relevantFrom: 1 });
  const recall = recallKs.map((cut) => ({
    k: cut,
    value: evaluateRankings(ranked, { k: cut, relevantFrom: set.relevantFrom }).recall,
  }));
  const byId = new Map(ranked.map((r) => [r.id, r.ranked]));
  return {
    set: set.name,
    grading: set.grading,
    retriever: retriever.description,
    documents: set.documents.length,
    queries: main.queries,
    skipped: main.skipped.length,
    k,
    ndcg: graded.ndcg,
    ndcgQueries: graded.queries,
    precision: main.precision,
    mrr: main.mrr,
    recall,
    perQuery: graded.perQuery.map((q) => {
      const strict = main.perQuery.find((m) => m.id === q.id);
      return {
        id: q.id,
        ndcg: q.ndcg,
        recall: strict?.recall ?? Number.NaN,
        reciprocalRank: strict?.reciprocalRank ?? Number.NaN,
        ranked: (byId.get(q.id) ?? []).slice(0, k),
      };
    }),
    indexMs,
    queryLatency: latencySummary(latencies),
  };
}
