import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/main/eval/datasets/loadDataset';
import { EvalService } from '../../src/main/eval/EvalService';
import { EvalStore } from '../../src/main/eval/EvalStore';
import { loadLiveQaMed } from '../../src/main/eval/retrieval/judgedSets';
import { KnowledgeBenchmarkRetriever } from '../../src/main/eval/retrieval/KnowledgeBenchmarkRetriever';
import { runRetrievalBenchmark } from '../../src/main/eval/retrieval/retrievalBenchmark';
import { EventBus } from '../../src/main/ipc/EventBus';
import { RunRegistry } from '../../src/main/runs/RunRegistry';
import { defaultSettings } from '../../src/main/settings/defaultSettings';
import { openStore } from '../../src/main/store/openStore';
import type { BenchSuite, BenchTable } from '../BenchContext';

/**
 * The evaluation harness's own cost, without a model (scripted runner): loading and hashing a dataset, the per-result
 * overhead (image re-check, scoring, one SQLite write, one progress event), and computing metrics and the report.
 * A model item takes seconds, so what matters is that the overhead stays in milliseconds.
 */
export const evalSuite: BenchSuite = async ({ workDir, sharedDir, quick, log }) => {
  if (!sharedDir)
    return [{ title: 'eval harness', columns: ['note'], rows: [['../shared/data/vqa-rad is absent: skipped']] }];
  const testset = join(sharedDir, 'data/vqa-rad/testset.json');
  const trainset = join(sharedDir, 'data/vqa-rad/trainset.json');
  const tables: BenchTable[] = [];

  const loadRows: (string | number)[][] = [];
  for (const [name, path] of [
    ['VQA-RAD test (451 rows)', testset],
    ['VQA-RAD train (3,064 rows)', trainset],
  ] as const) {
    const started = performance.now();
    const dataset = await loadDataset({ format: 'vqa-rad', path });
    const ms = performance.now() - started;
    const images = new Set(dataset.items.flatMap((i) => i.images.map((m) => m.path))).size;
    loadRows.push([name, dataset.items.length, images, ms, (ms / dataset.rows) * 1000]);
  }
  tables.push({
    title: 'Dataset loading (parse, check and sha256 every image once)',
    columns: ['dataset', 'items', 'distinct images', 'ms', 'µs / row'],
    rows: loadRows,
  });

  const dir = join(workDir, 'eval-bench');
  rmSync(dir, { recursive: true, force: true });
  const db = openStore(join(dir, 'bench.sqlite'));
  try {
    const bus = new EventBus();
    const runs = new RunRegistry(bus);
    const evals = new EvalService({
      store: new EvalStore(db),
      runs,
      bus,
      settings: { get: defaultSettings },
      modelRunner: () => null,
      appVersion: 'bench',
    });
    const limit = quick ? 100 : undefined;
    const createStarted = performance.now();
    const created = await evals.create({
      dataset: { format: 'vqa-rad', path: testset },
      modes: ['direct', 'rwr', 'rwr+cdir'],
      dryRun: true,
      ...(limit ? { limit } : {}),
    });
    const createMs = performance.now() - createStarted;
    const runStarted = performance.now();
    const { runId } = await evals.resume(created.id);
    await runs.waitFor(runId);
    const runMs = performance.now() - runStarted;
    const results = created.itemCount * 3;
    log(`${results} results in ${runMs.toFixed(0)} ms`);

    const metricsStarted = performance.now();
    const detail = evals.get(created.id);
    const metricsMs = performance.now() - metricsStarted;
    const reportStarted = performance.now();
    const report = evals.report(created.id);
    const reportMs = performance.now() - reportStarted;
    const csvStarted = performance.now();
    const csv = evals.export(created.id, 'csv');
    const csvMs = performance.now() - csvStarted;
    tables.push({
      title: `Harness overhead, scripted runner (no model), ${created.itemCount} items × 3 modes`,
      columns: ['step', 'results', 'ms', 'ms / result'],
      rows: [
        ['create (load, select, freeze items)', results, createMs, createMs / results],
        ['run (re-check image sha256, score, write, event)', results, runMs, runMs / results],
        [
          'metrics (all modes, McNemar pairs)',
          detail.metrics.modes.reduce((n, m) => n + m.results, 0),
          metricsMs,
          metricsMs / results,
        ],
        [`HTML report (${(report.html.length / 1024).toFixed(0)} KiB)`, results, reportMs, reportMs / results],
        [`CSV export (${(csv.text.length / 1024).toFixed(0)} KiB)`, results, csvMs, csvMs / results],
      ],
      notes: [
        'The run row is everything the harness adds around a model item; Med-RwR items on a real model take seconds each.',
        'Timing is measured here, never asserted in tests.',
      ],
    });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const set = await loadLiveQaMed(join(sharedDir, 'data/retrieval/medquad_liveqa_judged'));
  const queries = quick ? set.queries.slice(0, 30) : set.queries;
  const retriever = new KnowledgeBenchmarkRetriever({ mode: 'lexical' });
  try {
    const r = await runRetrievalBenchmark({ ...set, queries }, retriever);
    tables.push({
      title: `Retrieval benchmark: ${set.name}, ${queries.length} queries, ${set.documents.length} judged answers`,
      columns: [
        'retriever',
        'nDCG@10',
        'R@1',
        'R@5',
        'R@10',
        'R@20',
        'MRR@10',
        'index ms',
        'query median ms',
        'query p90 ms',
      ],
      rows: [
        [
          'lexical (FTS5 bm25)',
          r.ndcg,
          r.recall.find((x) => x.k === 1)!.value,
          r.recall.find((x) => x.k === 5)!.value,
          r.recall.find((x) => x.k === 10)!.value,
          r.recall.find((x) => x.k === 20)!.value,
          r.mrr,
          r.indexMs,
          r.queryLatency.medianMs ?? 0,
          r.queryLatency.p90Ms ?? 0,
        ],
      ],
      notes: [
        `nDCG over ${r.ndcgQueries} queries with any positive judgment; recall and MRR over ${r.queries} queries with an Incomplete or Excellent answer.`,
        'Vector and hybrid rows need an embedding model (none small enough is available here); the corpus is the judged pool only.',
      ],
    });
  } finally {
    retriever.dispose();
  }
  return tables;
};
