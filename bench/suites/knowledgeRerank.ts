/**
 * Knowledge benchmark part 5: what a cross-encoder rerank adds to a hybrid search, measured side by side in one run —
 * hybrid (bm25 + vectors, RRF) vs hybrid + rerank with the engine's reranker adapter in this process vs the same
 * through the supervised engine process (the app's path). Tiny random GGUF models: this measures the service and
 * process overhead around the models and how latency grows with the candidate count, not a real reranker's speed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureTinyModels } from '../../tests/fixtures/gguf/tinyModels';
import { EngineService } from '../../src/main/engine/EngineService';
import { NodeLlamaCppReranker } from '../../src/main/engine/nodeLlamaCpp/NodeLlamaCppReranker';
import { NodeLlamaCppRuntime } from '../../src/main/engine/nodeLlamaCpp/runtime';
import type { Embedder, ModelIdentity, Reranker } from '../../src/main/engine/ports';
import { quantile } from '../../src/main/eval/metrics/summaryStats';
import { KnowledgeService } from '../../src/main/knowledge/KnowledgeService';
import { defaultSettings } from '../../src/main/settings/defaultSettings';
import { openStore } from '../../src/main/store/openStore';
import type { BenchContext, BenchTable } from '../BenchContext';

const root = join(import.meta.dirname, '../..');

/** Questions a reader might send while reading a chest study (the NHLBI file answers heart, lung and blood questions). */
const queries = [
  'What causes pneumonia?',
  'How is a pulmonary embolism diagnosed?',
  'pleural effusion chest pain when breathing',
  'symptoms of heart failure',
  'treatment of asthma attacks',
  'Who is at risk for COPD?',
  'sarcoidosis lung nodules',
  'How is anemia treated?',
  'pulmonary hypertension right heart',
  'What is atherosclerosis?',
  'interstitial lung disease in children',
  'deep vein thrombosis blood clot in the leg',
];

const percentile = (values: readonly number[], q: number): number => quantile([...values].sort((a, b) => a - b), q) ?? Number.NaN;

const identity = (path: string): ModelIdentity => ({
  path,
  name: basename(path),
  sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
  sizeBytes: statSync(path).size,
});

export async function rerankLatency({ workDir, quick, log }: BenchContext, embedder: Embedder): Promise<BenchTable> {
  const models = await ensureTinyModels();
  const scratch = join(workDir, 'knowledge-rerank');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const db = openStore(join(scratch, 'kb.sqlite'));
  const runtime = new NodeLlamaCppRuntime({ logLevel: 'error' });
  const settings = defaultSettings();
  settings.engine = { ...settings.engine, threads: 1, gpuLayers: 0 };
  settings.models = { ...settings.models, reranker: models.reranker };
  const engine = new EngineService({ settings: { get: () => settings }, logDir: scratch });
  let reranker: Reranker | null = null;
  try {
    log('rerank: ingesting and embedding the bundled NHLBI file…');
    const plain = new KnowledgeService(db, { embedder });
    const { passagesAdded } = await plain.ingest([join(root, 'resources/knowledge/medquad/8_nhlbi_qa_xml.jsonl.gz')]);
    reranker = await NodeLlamaCppReranker.load(runtime, { model: identity(models.reranker), threads: 1 });
    await engine.load(['reranker']);
    const variants: [string, KnowledgeService][] = [
      ['hybrid', plain],
      ['hybrid + rerank (adapter in process)', new KnowledgeService(db, { embedder, reranker })],
      ['hybrid + rerank (engine process, the app path)', new KnowledgeService(db, { embedder, reranker: engine.reranker() })],
    ];
    const rounds = quick ? 1 : 3;
    const rows: (string | number)[][] = [];
    for (const k of [3, 10]) {
      const latencies = variants.map(() => [] as number[]);
      const candidates: number[] = [];
      log(`rerank: k=${k}, ${rounds} rounds of ${queries.length} queries, variants interleaved…`);
      for (let round = 0; round < rounds; round++) {
        for (const query of queries) {
          for (const [i, [, kb]] of variants.entries()) {
            const started = performance.now();
            const response = await kb.search(query, { k, mode: 'hybrid' });
            latencies[i]!.push(performance.now() - started);
            if (i === 1 && round === 0) candidates.push(response.reranked ? Math.max(20, 4 * k) : 0);
          }
        }
      }
      const base = percentile(latencies[0]!, 0.5);
      variants.forEach(([name], i) => {
        const p50 = percentile(latencies[i]!, 0.5);
        rows.push([
          name,
          k,
          i === 0 ? 0 : Math.round(candidates.reduce((a, b) => a + b, 0) / candidates.length),
          p50,
          percentile(latencies[i]!, 0.95),
          i === 0 ? '1.00×' : `${(p50 / base).toFixed(2)}×`,
        ]);
      });
    }
    return {
      title: 'Hybrid vs hybrid + rerank latency',
      columns: ['search', 'k', 'candidates reranked', 'p50 ms', 'p95 ms', 'vs hybrid'],
      rows,
      notes: [
        `${passagesAdded} passages (bundled MedQuAD NHLBI), ${queries.length} queries × ${rounds} round(s), the three variants interleaved per query.`,
        `Models: ${basename(models.embeddingModel)} (${embedder.dimensions}-d) and ${basename(models.reranker)} (BERT cross-encoder, 2 layers, n_embd 32, context 1024), CPU, 1 thread — random weights: overhead and scaling, not a real model's speed or quality.`,
        'The service reranks the top max(20, 4k) fused candidates; a document longer than the reranker context is scored by its best window.',
        "Rerank time grows with the pair's tokens: the tiny reranker's ~170-piece WordPiece vocabulary spends ~0.65 tokens per character (a real one ~0.25), so a 1,000-character passage is ~650 tokens.",
      ],
    };
  } finally {
    db.close();
    await reranker?.dispose();
    await runtime.dispose();
    await engine.dispose();
  }
}
