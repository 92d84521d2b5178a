/**
 * Ranking metrics for retrieval evaluation (TREC conventions): nDCG@k with graded judgments, recall@k, precision@k
 * and reciprocal rank, per query and averaged over queries. Items are compared by id (`===`), so any id type works.
 * Unjudged items count as not relevant (pool-based judgments).
 */

/** Graded judgments of one query: item id → gain (0 or absent = not relevant). */
export type Judgments<Id> = ReadonlyMap<Id, number>;

export type GainFunction = 'linear' | 'exponential';

/** DCG@k = Σ_{i≤k} g(rel_i) / log2(i + 1); g(r) = r (linear, as trec_eval) or 2^r − 1 (exponential). */
export function dcgAtK<Id>(
  ranked: readonly Id[],
  judgments: Judgments<Id>,
  k: number,
  gain: GainFunction = 'linear',
): number {
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) {
    const rel = judgments.get(ranked[i]!) ?? 0;
    if (rel > 0) dcg += gainOf(rel, gain) / Math.log2(i + 2);
  }
  return dcg;
}

/**
 * nDCG@k: DCG of the ranking over the DCG of the ideal ranking of all judged items. NaN when the query has no
 * relevant item (such queries are left out of averages by `evaluateRankings`).
 */
export function ndcgAtK<Id>(
  ranked: readonly Id[],
  judgments: Judgments<Id>,
  k: number,
  gain: GainFunction = 'linear',
): number {
  const ideal = [...judgments.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += gainOf(ideal[i]!, gain) / Math.log2(i + 2);
  return idcg === 0 ? Number.NaN : dcgAtK(ranked, judgments, k, gain) / idcg;
}

/** Fraction of the relevant items (gain ≥ `relevantFrom`, defaults to 1) found in the top k; NaN when none exist. */
export function recallAtK<Id>(ranked: readonly Id[], judgments: Judgments<Id>, k: number, relevantFrom = 1): number {
  const relevant = countRelevant(judgments, relevantFrom);
  if (relevant === 0) return Number.NaN;
  return foundInTop(ranked, judgments, k, relevantFrom) / relevant;
}

/** Fraction of the top k that is relevant (gain ≥ `relevantFrom`, defaults to 1); a short list is padded with misses. */
export function precisionAtK<Id>(ranked: readonly Id[], judgments: Judgments<Id>, k: number, relevantFrom = 1): number {
  return foundInTop(ranked, judgments, k, relevantFrom) / k;
}

/** 1 / rank of the first relevant item within the first `k` (defaults to all), 0 when there is none. */
export function reciprocalRank<Id>(
  ranked: readonly Id[],
  judgments: Judgments<Id>,
  relevantFrom = 1,
  k = Infinity,
): number {
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if ((judgments.get(ranked[i]!) ?? 0) >= relevantFrom) return 1 / (i + 1);
  return 0;
}

export interface RankedQuery<Id> {
  id: string;
  ranked: readonly Id[];
  judgments: Judgments<Id>;
}

export interface RankingOptions {
  /** Cut-off of every metric. Defaults to 10. */
  k?: number;
  /** Smallest gain that counts as relevant for recall, precision and MRR. Defaults to 1. */
  relevantFrom?: number;
  /** Defaults to 'linear'. */
  gain?: GainFunction;
}

export interface QueryScores {
  id: string;
  ndcg: number;
  recall: number;
  precision: number;
  reciprocalRank: number;
}

export interface RankingSummary {
  k: number;
  /** Queries with at least one relevant item (the ones averaged). */
  queries: number;
  /** Queries left out because nothing relevant was judged for them. */
  skipped: string[];
  ndcg: number;
  recall: number;
  precision: number;
  mrr: number;
  perQuery: QueryScores[];
}

/** Per-query metrics and their means over the queries that have relevant items. */
export function evaluateRankings<Id>(
  queries: readonly RankedQuery<Id>[],
  options: RankingOptions = {},
): RankingSummary {
  const k = options.k ?? 10;
  const relevantFrom = options.relevantFrom ?? 1;
  const perQuery: QueryScores[] = [];
  const skipped: string[] = [];
  for (const q of queries) {
    if (countRelevant(q.judgments, relevantFrom) === 0) {
      skipped.push(q.id);
      continue;
    }
    perQuery.push({
      id: q.id,
      ndcg: ndcgAtK(q.ranked, q.judgments, k, options.gain),
      recall: recallAtK(q.ranked, q.judgments, k, relevantFrom),
      precision: precisionAtK(q.ranked, q.judgments, k, relevantFrom),
      reciprocalRank: reciprocalRank(q.ranked, q.judgments, relevantFrom, k),
    });
  }
  const mean = (pick: (s: QueryScores) => number): number =>
    perQuery.length === 0 ? Number.NaN : perQuery.reduce((sum, s) => sum + pick(s), 0) / perQuery.length;
  return {
    k,
    queries: perQuery.length,
    skipped,
    ndcg: mean((s) => s.ndcg),
    recall: mean((s) => s.recall),
    precision: mean((s) => s.precision),
    mrr: mean((s) => s.reciprocalRank),
    perQuery,
  };
}

function gainOf(rel: number, gain: GainFunction): number {
  return gain === 'exponential' ? 2 ** rel - 1 : rel;
}

function countRelevant<Id>(judgments: Judgments<Id>, relevantFrom: number): number {
  let n = 0;
  for (const g of judgments.values()) if (g >= relevantFrom && g > 0) n++;
  return n;
}

function foundInTop<Id>(ranked: readonly Id[], judgments: Judgments<Id>, k: number, relevantFrom: number): number {
  let found = 0;
  const seen = new Set<Id>();
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const id = ranked[i]!;
    if (seen.has(id)) continue;
    seen.add(id);
    const g = judgments.get(id) ?? 0;
    if (g >= relevantFrom && g > 0) found++;
  }
  return found;
}
