import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RetrievalMode } from '../../shared/contract';
import { loadBeir, loadLiveQaMed, type LiveQaQueryField } from '../eval/retrieval/judgedSets';
import { KnowledgeBenchmarkRetriever } from '../eval/retrieval/KnowledgeBenchmarkRetriever';
import { runRetrievalBenchmark, type RetrievalBenchmarkReport } from '../eval/retrieval/retrievalBenchmark';
import type { CliContext } from './CliContext';

/**
 * `npm run eval -- retrieval (--liveqa <dir> | --beir <dir>) [--k 10] [--mode lexical|vector|hybrid]
 * [--queries summary|paraphrase|original] [--split test] [--out report.json]`: nDCG@k and recall@k of the knowledge
 * search on a judged set, indexed in a scratch store (the app's knowledge base is not touched).
 */
export async function evalRetrievalCommand(argv: string[], { out, err }: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      liveqa: { type: 'string' },
      beir: { type: 'string' },
      k: { type: 'string' },
      mode: { type: 'string' },
      queries: { type: 'string' },
      split: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (!values.liveqa === !values.beir) {
    err('eval retrieval: give exactly one of --liveqa <dir> or --beir <dir>');
    return 2;
  }
  const k = values.k === undefined ? 10 : Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) {
    err(`eval retrieval: --k expected an integer from 1 to 100, found "${values.k}"`);
    return 2;
  }
  const mode = (values.mode ?? 'lexical') as RetrievalMode;
  if (!['lexical', 'vector', 'hybrid'].includes(mode)) {
    err(`eval retrieval: --mode expected lexical, vector or hybrid, found "${mode}"`);
    return 2;
  }
  const set = values.liveqa
    ? await loadLiveQaMed(resolve(values.liveqa), { queryField: (values.queries ?? 'summary') as LiveQaQueryField })
    : await loadBeir(resolve(values.beir!), values.split ? { split: values.split } : {});
  out(`${set.name}: ${set.documents.length} documents, ${set.queries.length} queries`);
  // Vector and hybrid search need an embedding model from the engine; without one the service says it fell back.
  const retriever = new KnowledgeBenchmarkRetriever({ mode });
  try {
    const report = await runRetrievalBenchmark(set, retriever, { k });
    for (const line of formatRetrievalReport(report)) out(line);
    if (values.out) {
      writeFileSync(resolve(values.out), JSON.stringify(report, null, 2));
      out(`per-query results: ${resolve(values.out)}`);
    }
    return 0;
  } finally {
    retriever.dispose();
  }
}

export function formatRetrievalReport(report: RetrievalBenchmarkReport): string[] {
  const f = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(4));
  return [
    `retriever: ${report.retriever}`,
    `judgments: ${report.grading}`,
    `nDCG@${report.k} ${f(report.ndcg)} over ${report.ndcgQueries} queries with any positive judgment`,
    `recall ${report.recall.map((r) => `@${r.k} ${f(r.value)}`).join(' · ')} · P@${report.k} ${f(report.precision)} · MRR@${report.k} ${f(report.mrr)} over ${report.queries} queries with a relevant document (${report.skipped} without one left out)`,
    `index ${(report.indexMs / 1000).toFixed(1)} s · query median ${report.queryLatency.medianMs?.toFixed(1) ?? '—'} ms, p90 ${report.queryLatency.p90Ms?.toFixed(1) ?? '—'} ms`,
  ];
}
