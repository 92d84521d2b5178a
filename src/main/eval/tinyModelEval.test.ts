import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import type { EvalProgressEvent } from '../../shared/contract';
import { AuditStore } from '../audit/AuditStore';
import { LlamaNodeReasoner } from '../engine/llama/LlamaNodeReasoner';
import type { ModelIdentity } from '../engine/ports';
import { EventBus } from '../ipc/EventBus';
import { KnowledgeService } from '../knowledge/KnowledgeService';
import { createProtocolGrammar, type ProtocolGrammar } from '../reasoning/protocolGrammar';
import { ReasoningService } from '../reasoning/ReasoningService';
import { caseRetrieverFrom, passageRetrieverFrom } from '../reasoning/serviceAdapters';
import { StudyImageSource } from '../reasoning/StudyImageSource';
import { RunRegistry } from '../runs/RunRegistry';
import { SettingsService } from '../settings/SettingsService';
import { openStore, type Db } from '../store/openStore';
import { EvalService } from './EvalService';
import { EvalStore } from './EvalStore';
import { ReasoningItemRunner } from './runner/ReasoningItemRunner';

const projectRoot = resolve(import.meta.dirname, '../../..');
const shared = resolve(projectRoot, '../shared/data');
const vqaRad = join(shared, 'vqa-rad/testset.json');
const medquad = join(shared, 'text/medquad/7_SeniorHealth_QA');
const cases = join(shared, 'image-cases/covid_chestxray_subset');
const artifacts = join(projectRoot, 'tests/e2e/artifacts');
const available = [vqaRad, medquad, cases].every((p) => existsSync(p));

function identity(path: string): ModelIdentity {
  return {
    path,
    name: basename(path),
    sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
    sizeBytes: statSync(path).size,
  };
}

/**
 * Short letter-only segments, so a random-weight model writes short protocol-valid runs (the default grammar bounds
 * end too — a looping or overlong thought is closed, see evalCli.test.ts — but take longer and never query), and one
 * knowledge query of one or two medical terms (the model picks them) in the first attempt whenever the mode allows
 * retrieval, so the rwr modes really search the knowledge base.
 */
const base = createProtocolGrammar({
  textClass: '[a-z ]',
  thinkChars: [3, 24],
  queryChars: [3, 16],
  answerChars: [1, 12],
});
const terms = ['lung', 'heart', 'brain', 'kidney', 'liver', 'stroke', 'cancer', 'pneumonia', 'fracture', 'bleeding'];
const queryOfTerms = [
  'root ::= ws "<think>" [a-z ]{3,24} "</think>" ws "<query>" term (" " term)? "</query>"',
  `term ::= ${terms.map((t) => `"${t}"`).join(' | ')}`,
  'ws ::= [ \\n]{0,2}',
].join('\n');
const oneQueryThenAnswer: ProtocolGrammar = {
  reasoning: ({ allowQuery, roundsServed = 0, attempt = 1 }) =>
    allowQuery && attempt === 1 && roundsServed === 0
      ? queryOfTerms
      : base.reasoning({ allowQuery: false, requireQuery: false }),
  answer: (options) => base.answer(options),
};

/**
 * The real model path in depth: the tiny random multimodal model, constrained by a short protocol grammar, answers
 * 10 VQA-RAD items in all three modes through the real loop, knowledge base (MedQuAD, lexical), image-case corpus
 * (CDIR) and audit; the evaluation is cancelled half way, resumed, completed, and reported. Issue 8's "done" (20
 * items, the CLI process SIGKILLed and resumed, on the same tiny model) is evalCli.test.ts.
 */
describe.skipIf(!available)('evaluation on the tiny real model (needs ../shared/data; skipped when absent)', () => {
  let dir: string;
  let db: Db;
  let reasoner: LlamaNodeReasoner;
  let runs: RunRegistry;
  let bus: EventBus;
  let evals: EvalService;
  let audit: AuditStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-eval-tiny-'));
    const models = await ensureTinyModels();
    reasoner = await LlamaNodeReasoner.load({
      model: identity(models.textModel),
      projector: identity(models.mmproj),
      contextSize: 4096,
      threads: 1,
      mmprojOffload: false,
    });
    db = openStore(join(dir, 'medrwr.sqlite'));
    bus = new EventBus();
    runs = new RunRegistry(bus);
    const settings = new SettingsService(db);
    audit = new AuditStore(db);
    const knowledge = new KnowledgeService(db, { embedder: null });
    await knowledge.ingest([medquad]);
    await knowledge.ingestCases(cases);
    const reasoning = new ReasoningService({
      reasoner: () => reasoner,
      passages: () => passageRetrieverFrom(knowledge),
      cases: () => caseRetrieverFrom(knowledge.cases),
      images: new StudyImageSource(),
      settings,
      audit,
      emit: () => undefined,
      grammar: oneQueryThenAnswer,
    });
    evals = new EvalService({
      store: new EvalStore(db),
      runs,
      bus,
      settings,
      modelRunner: () => new ReasoningItemRunner({ reasoning, audit }),
      appVersion: 'test',
    });
  }, 300_000);

  afterAll(async () => {
    await evals?.dispose();
    await reasoner?.dispose();
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs 10 VQA-RAD items × 3 modes, survives a cancel half way, resumes, and reports', async () => {
    const progress: EvalProgressEvent[] = [];
    bus.subscribe((event, payload) => {
      if (event === 'eval.progress') progress.push(payload as EvalProgressEvent);
    });
    const request = {
      dataset: { format: 'vqa-rad' as const, path: vqaRad },
      modes: ['direct' as const, 'rwr' as const, 'rwr+cdir' as const],
      sample: { size: 10, seed: 5 },
      label: 'tiny model, grammar-constrained',
      // One passage per query keeps the prompts (and the test) short on a shared 2-core machine.
      settings: { reasoning: { grammarConstrained: true, maxTokens: 160 }, retrieval: { k: 1, maxRounds: 1 } },
    };
    const first = await evals.start(request);
    const stopAt = bus.subscribe((event, payload) => {
      if (event === 'eval.progress' && (payload as EvalProgressEvent).itemsDone === 12) runs.cancel(first.runId);
    });
    expect(await runs.waitFor(first.runId)).toEqual({ status: 'cancelled' });
    stopAt();
    expect(evals.list()[0]).toMatchObject({ status: 'cancelled', resultsDone: 12, resultsTotal: 30 });

    const resumed = await evals.resume(first.evalId);
    expect(await runs.waitFor(resumed.runId)).toEqual({ status: 'completed' });
    const detail = evals.get(first.evalId);
    expect(detail.summary).toMatchObject({ status: 'completed', resultsDone: 30, failed: 0, dryRun: false });
    expect(progress.map((p) => p.itemsDone)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    // Real tokens and probabilities: every answer has a measured first-token confidence in (0, 1].
    const results = evals.results({ evalId: first.evalId });
    expect(results).toHaveLength(30);
    for (const r of results) {
      expect(r.status).toBe('ok');
      expect(r.confidence?.firstToken).toBeGreaterThan(0);
      expect(r.confidence?.firstToken).toBeLessThanOrEqual(1);
      expect(audit.get(r.auditRunId!).mode).toBe(r.mode);
    }
    const [direct, rwr, cdir] = detail.metrics.modes;
    expect(direct!.retrieval.hitsTotal).toBe(0);
    // The knowledge base really answered: one query per item in the retrieval modes, passages from MedQuAD.
    for (const m of [rwr!, cdir!]) {
      expect(m.retrieval.itemsWithQueries).toMatchObject({ count: 10, total: 10 });
      expect(m.retrieval.hitSources[0]?.source).toMatch(/SeniorHealth|MedQuAD/i);
    }
    // A random model is never confident: CDIR triggers on every item and re-reasons with a similar case.
    expect(cdir!.cdir.triggered).toMatchObject({ count: 10, total: 10 });
    expect(cdir!.cdir.reattempted).toBeGreaterThan(0);
    expect(detail.runner.models.map((m) => m.role)).toEqual(['reasoner', 'mmproj']);
    expect(detail.runner.models[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(detail.settings.reasoning.grammarConstrained).toBe(true);
    // Same items and seed in each mode: every pair of modes is compared on all 10 items.
    expect(detail.metrics.paired.map((p) => p.pairs)).toEqual([10, 10, 10]);

    const report = evals.report(first.evalId);
    expect(report.html).toContain(detail.runner.models[0]!.sha256);
    expect(report.html).not.toContain('DRY RUN');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'eval-report-tiny-model.html'), report.html);
    writeFileSync(join(artifacts, 'eval-results-tiny-model.csv'), evals.export(first.evalId, 'csv').text);
  }, 600_000);
});
