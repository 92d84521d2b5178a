import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvalProgressEvent, EvalRunnerIdentity, Settings } from '../../shared/contract';
import { EventBus } from '../ipc/EventBus';
import { RunRegistry } from '../runs/RunRegistry';
import { defaultSettings } from '../settings/defaultSettings';
import { openStore, type Db } from '../store/openStore';
import { KnowledgeGate } from '../reasoning/KnowledgeGate';
import { EvalService } from './EvalService';
import { EvalStore } from './EvalStore';
import type { EvalItemRunner, ItemRunInput } from './runner/ItemRunner';
import { ScriptedItemRunner, type ScriptedRunnerOptions } from './runner/ScriptedItemRunner';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

function writeDataset(dir: string): string {
  writeFileSync(join(dir, 'a.png'), pngSignature);
  writeFileSync(join(dir, 'b.png'), Buffer.concat([pngSignature, Buffer.from([1])]));
  const rows = [
    { id: 'q1', image: 'a.png', question: 'Is there a mass?', answer: 'yes', question_type: 'PRES' },
    { id: 'q2', image: 'a.png', question: 'Is the heart enlarged?', answer: 'no', question_type: 'ABN' },
    { id: 'q3', image: 'b.png', question: 'Which modality?', choices: ['CT', 'MRI', 'X-ray'], answer: 'CT' },
    { id: 'q4', image: 'b.png', question: 'Which organ is shown?', answer: 'liver', question_type: 'ORGAN' },
    { id: 'q5', image: 'a.png', question: 'Where is the lesion?', answer: 'left temporal lobe', question_type: 'POS' },
    { id: 'q6', image: 'b.png', question: 'Is this normal?', answer: 'no', question_type: 'ABN' },
    { id: 'bad', image: 'missing.png', question: 'Q?', answer: 'yes' },
  ];
  const path = join(dir, 'set.jsonl');
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
  return path;
}

/** A scripted runner whose identity can be changed, to check the resume guard. */
class IdentifiedRunner extends ScriptedItemRunner {
  constructor(
    public identity: EvalRunnerIdentity,
    options: ScriptedRunnerOptions = {},
  ) {
    super(options);
  }
  override async describe(): Promise<EvalRunnerIdentity> {
    return this.identity;
  }
}

const modelIdentity = (sha: string): EvalRunnerIdentity => ({
  kind: 'model',
  description: 'test model',
  models: [{ role: 'reasoner', name: 'tiny.gguf', sha256: sha, sizeBytes: 10 }],
  knowledgeBase: 'kb-1',
});

describe('EvalService', () => {
  let dir: string;
  let datasetPath: string;
  let db: Db;
  let bus: EventBus;
  let runs: RunRegistry;
  let progress: EvalProgressEvent[];
  let settings: Settings;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-eval-svc-'));
    datasetPath = writeDataset(dir);
    db = openStore(join(dir, 'store.sqlite'));
    bus = new EventBus();
    runs = new RunRegistry(bus);
    progress = [];
    bus.subscribe((event, payload) => {
      if (event === 'eval.progress') progress.push(payload as EvalProgressEvent);
    });
    settings = defaultSettings();
  });

  afterEach(() => {
    runs.cancelAll();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(
    options: {
      runner?: EvalItemRunner | null;
      scripted?: EvalItemRunner;
      pid?: number;
      alive?: boolean;
      prepareModels?: () => Promise<void>;
      knowledgeReady?: () => Promise<void>;
    } = {},
  ) {
    return new EvalService({
      store: new EvalStore(db),
      runs,
      bus,
      settings: { get: () => structuredClone(settings) },
      modelRunner: () => options.runner ?? null,
      ...(options.scripted ? { scriptedRunner: options.scripted } : {}),
      appVersion: 'test',
      ...(options.pid !== undefined ? { pid: options.pid } : {}),
      isProcessAlive: () => options.alive ?? false,
      ...(options.prepareModels ? { prepareModels: options.prepareModels } : {}),
      ...(options.knowledgeReady ? { knowledgeReady: options.knowledgeReady } : {}),
    });
  }

  const request = { dataset: { format: 'jsonl' as const, path: '' }, modes: ['direct', 'rwr', 'rwr+cdir'] as const };

  it('runs every item in every mode, records each result, and reports progress with an ETA', async () => {
    const evals = service();
    const { runId, evalId } = await evals.start({
      ...request,
      dataset: { format: 'jsonl', path: datasetPath },
      modes: [...request.modes],
      dryRun: true,
    });
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });

    expect(progress).toHaveLength(18);
    expect(progress.map((p) => p.itemsDone)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(progress.every((p) => p.itemsTotal === 18 && p.evalId === evalId && p.runId === runId)).toBe(true);
    expect(progress[0]!.etaMs).not.toBeNull();
    expect(progress.at(-1)!.etaMs).toBe(0);
    expect(progress.slice(0, 3).map((p) => [p.itemId, p.mode])).toEqual([
      ['q1', 'direct'],
      ['q1', 'rwr'],
      ['q1', 'rwr+cdir'],
    ]);

    const [summary] = evals.list();
    expect(summary).toMatchObject({
      evalId,
      status: 'completed',
      items: 6,
      resultsDone: 18,
      resultsTotal: 18,
      failed: 0,
      dryRun: true,
      dataset: 'JSONL set.jsonl',
      activeRunId: null,
    });
    const detail = evals.get(evalId);
    expect(detail.problems).toEqual([expect.objectContaining({ itemId: 'bad', code: 'IMAGE_MISSING' })]);
    expect(detail.metrics.modes.map((m) => m.results)).toEqual([6, 6, 6]);
    expect(detail.metrics.paired).toHaveLength(3);
    for (const m of detail.metrics.modes) {
      expect(summary!.correct[m.mode]).toEqual({ correct: m.overall.count, total: 6 });
    }
    expect(detail.metrics.modes[0]!.retrieval.queriesTotal).toBe(0);
    expect(detail.runner.kind).toBe('scripted');
    expect(evals.results({ evalId, mode: 'rwr' })).toHaveLength(6);
    expect(evals.results({ evalId, offset: 16 })).toHaveLength(2);
  });

  it('resumes a cancelled evaluation and ends with the results of an uninterrupted run', async () => {
    const scripted = new ScriptedItemRunner({ delayMs: 5 });
    const evals = service({ scripted });
    const full = await evals.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct', 'rwr+cdir'],
      dryRun: true,
    });
    await runs.waitFor(full.runId);

    const partial = await evals.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct', 'rwr+cdir'],
      dryRun: true,
    });
    bus.subscribe((event, payload) => {
      if (
        event === 'eval.progress' &&
        (payload as EvalProgressEvent).evalId === partial.evalId &&
        (payload as EvalProgressEvent).itemsDone === 5
      ) {
        runs.cancel(partial.runId);
      }
    });
    expect(await runs.waitFor(partial.runId)).toEqual({ status: 'cancelled' });
    const cancelled = evals.list().find((s) => s.evalId === partial.evalId)!;
    expect(cancelled).toMatchObject({ status: 'cancelled', resultsDone: 5 });

    progress = [];
    const resumed = await evals.resume(partial.evalId);
    expect(await runs.waitFor(resumed.runId)).toEqual({ status: 'completed' });
    expect(progress.filter((p) => p.evalId === partial.evalId).map((p) => p.itemsDone)).toEqual([
      6, 7, 8, 9, 10, 11, 12,
    ]);

    const strip = (evalId: string) =>
      evals
        .results({ evalId })
        .map((r) => [r.itemId, r.mode, r.answer, r.correct, r.confidence?.used, r.cdirTriggered]);
    expect(strip(partial.evalId)).toEqual(strip(full.evalId));
    expect(evals.get(partial.evalId).summary.status).toBe('completed');
  });

  it('records a failing item as failed, goes on, and retries it on resume', async () => {
    let failing = true;
    const scripted = new ScriptedItemRunner({
      beforeItem: (input: ItemRunInput) => {
        if (failing && input.item.id === 'q3' && input.mode === 'rwr') throw new Error('engine crashed');
      },
    });
    const evals = service({ scripted });
    const { runId, evalId } = await evals.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct', 'rwr'],
      dryRun: true,
    });
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });
    expect(evals.list()[0]).toMatchObject({ resultsDone: 12, failed: 1 });
    const failed = evals.results({ evalId }).find((r) => r.status === 'failed')!;
    expect(failed).toMatchObject({
      itemId: 'q3',
      mode: 'rwr',
      answer: null,
      correct: null,
      error: { code: 'INTERNAL', message: 'engine crashed' },
    });
    expect(evals.get(evalId).metrics.modes[1]).toMatchObject({ failed: 1, results: 6 });
    expect(progress.at(-1)!.failed).toBe(1);

    failing = false;
    const resumed = await evals.resume(evalId);
    await runs.waitFor(resumed.runId);
    expect(evals.list()[0]).toMatchObject({ resultsDone: 12, failed: 0, status: 'completed' });
  });

  it('sees a running evaluation whose process is gone as interrupted, and resumes it from another process', async () => {
    const first = service({ pid: 1111, scripted: new ScriptedItemRunner({ delayMs: 20 }) });
    const { runId, evalId } = await first.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct'],
      dryRun: true,
    });
    await new Promise((r) => setTimeout(r, 50));
    // Another process (pid 2222) looks while pid 1111 is alive, then after it is gone.
    expect(service({ pid: 2222, alive: true }).list()[0]!.status).toBe('running');
    await expect(service({ pid: 2222, alive: true }).resume(evalId)).rejects.toMatchObject({ code: 'EVAL_BUSY' });
    runs.cancel(runId);
    await runs.waitFor(runId);
    db.prepare("UPDATE eval_runs SET status = 'running' WHERE id = ?").run(evalId); // as if killed mid-run
    const second = service({ pid: 2222, alive: false });
    expect(second.list()[0]!.status).toBe('interrupted');
    const resumed = await second.resume(evalId);
    expect(await runs.waitFor(resumed.runId)).toEqual({ status: 'completed' });
    expect(second.list()[0]).toMatchObject({ status: 'completed', resultsDone: 6 });
  });

  it('runs one evaluation at a time; a queued one can be cancelled before it starts', async () => {
    const evals = service({ scripted: new ScriptedItemRunner({ delayMs: 2 }) });
    const ref = { dataset: { format: 'jsonl' as const, path: datasetPath }, modes: ['direct' as const], dryRun: true };
    const first = await evals.start(ref);
    const second = await evals.start(ref);
    const third = await evals.start(ref);
    runs.cancel(third.runId);
    expect(await runs.waitFor(third.runId)).toEqual({ status: 'cancelled' });
    await runs.waitFor(first.runId);
    await runs.waitFor(second.runId);
    const order = progress.map((p) => p.evalId);
    expect(order).toEqual([...Array<string>(6).fill(first.evalId), ...Array<string>(6).fill(second.evalId)]);
    expect(evals.list().find((s) => s.evalId === third.evalId)).toMatchObject({ status: 'cancelled', resultsDone: 0 });
  });

  it('fails an item whose image bytes changed after the evaluation was created', async () => {
    const evals = service();
    const created = await evals.create({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct'],
      dryRun: true,
    });
    writeFileSync(join(dir, 'b.png'), Buffer.concat([pngSignature, Buffer.from([2])]));
    const { runId } = await evals.resume(created.id);
    await runs.waitFor(runId);
    const failed = evals.results({ evalId: created.id }).filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.itemId)).toEqual(['q3', 'q4', 'q6']);
    expect(failed[0]!.error).toMatchObject({ code: 'IMAGE_CHANGED' });
  });

  it('needs a model runner unless it is a dry run, and refuses to resume with different models', async () => {
    await expect(
      service().start({ dataset: { format: 'jsonl', path: datasetPath }, modes: ['direct'] }),
    ).rejects.toMatchObject({
      code: 'NOT_AVAILABLE',
    });
    const runner = new IdentifiedRunner(modelIdentity('aaa'), { delayMs: 5 });
    let prepared = 0;
    const evals = service({ runner, prepareModels: async () => void prepared++ });
    const { runId, evalId } = await evals.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct'],
      seed: 7,
    });
    runs.cancel(runId);
    await runs.waitFor(runId);
    const detail = evals.get(evalId);
    expect(detail.runner.models[0]!.sha256).toBe('aaa');
    expect(detail.settings.reasoning.seed).toBe(7);
    runner.identity = modelIdentity('bbb');
    await expect(evals.resume(evalId)).rejects.toMatchObject({
      code: 'EVAL_MODEL_CHANGED',
      message: expect.stringContaining('expected the models the evaluation started with (reasoner tiny.gguf aaa)'),
    });
    runner.identity = { ...modelIdentity('aaa'), knowledgeBase: 'kb-2' };
    await expect(evals.resume(evalId)).rejects.toMatchObject({ code: 'EVAL_KNOWLEDGE_CHANGED' });
    // Models are loaded (when none is) before creating and before each resume of a model evaluation; never for dry runs.
    expect(prepared).toBe(3);
    await evals.create({ dataset: { format: 'jsonl', path: datasetPath }, modes: ['direct'], dryRun: true });
    expect(prepared).toBe(3);
  });

  it('waits for the bundled knowledge base being built before it freezes a model evaluation (not a dry run)', async () => {
    // The runner's knowledge fingerprint changes as the install adds files, as the real one does.
    const runner = new IdentifiedRunner({ ...modelIdentity('aaa'), knowledgeBase: 'kb-half-built' }, { delayMs: 1 });
    const gate = new KnowledgeGate();
    let finishInstall!: () => void;
    gate.follow('bundled-run', new Promise((resolve) => (finishInstall = () => resolve({ status: 'completed' }))));
    const evals = service({ runner, knowledgeReady: () => gate.wait() });
    let started = false;
    const starting = evals.start({ dataset: { format: 'jsonl', path: datasetPath }, modes: ['direct'] }).then((r) => {
      started = true;
      return r;
    });
    const dry = await evals.create({ dataset: { format: 'jsonl', path: datasetPath }, modes: ['direct'], dryRun: true });
    expect(dry.runner.kind).toBe('scripted');
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(false);
    expect(evals.list().filter((e) => !e.dryRun)).toHaveLength(0);
    runner.identity = { ...modelIdentity('aaa'), knowledgeBase: 'kb-complete' };
    finishInstall();
    const { runId, evalId } = await starting;
    await runs.waitFor(runId);
    expect(evals.get(evalId).runner.knowledgeBase).toBe('kb-complete');
    expect(evals.get(evalId).summary.status).toBe('completed');
  });

  it('freezes per-evaluation setting overrides after validating them, without changing the app settings', async () => {
    const evals = service();
    const created = await evals.create({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['rwr+cdir'],
      dryRun: true,
      settings: { reasoning: { cdirThreshold: 0.5, grammarConstrained: true }, retrieval: { k: 5 } },
    });
    expect(created.settings.reasoning).toMatchObject({ cdirThreshold: 0.5, grammarConstrained: true, seed: 42 });
    expect(created.settings.retrieval.k).toBe(5);
    expect(settings.reasoning.cdirThreshold).toBe(0.9);
    await expect(
      evals.create({
        dataset: { format: 'jsonl', path: datasetPath },
        modes: ['direct'],
        dryRun: true,
        settings: { reasoning: { cdirThreshold: 2 } },
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('settings.reasoning.cdirThreshold'),
    });
  });

  it('rejects unknown modes and datasets without a usable item', async () => {
    const evals = service();
    await expect(
      evals.create({
        dataset: { format: 'jsonl', path: datasetPath },
        modes: ['direct', 'cdir' as never],
        dryRun: true,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'modes: expected direct | rwr | rwr+cdir, found cdir' });
    writeFileSync(
      join(dir, 'empty.jsonl'),
      JSON.stringify({ id: 'x', image: 'nope.png', question: 'Q?', answer: 'yes' }),
    );
    await expect(
      evals.create({ dataset: { format: 'jsonl', path: join(dir, 'empty.jsonl') }, modes: ['direct'], dryRun: true }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('expected at least one valid item, found none of 1 rows'),
    });
    expect(evals.list()).toEqual([]);
  });

  it('exports CSV and JSONL, writes the report, and removes an evaluation', async () => {
    const evals = service();
    const { runId, evalId } = await evals.start({
      dataset: { format: 'jsonl', path: datasetPath },
      modes: ['direct', 'rwr+cdir'],
      dryRun: true,
      label: 'site A',
    });
    await runs.waitFor(runId);
    const csv = evals.export(evalId, 'csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(13);
    expect(lines[0]).toMatch(
      /^item_index,item_id,mode,answer_type,question_type,question,reference,status,answer,correct/,
    );
    expect(csv.fileName).toMatch(/\.csv$/);
    const jsonl = evals
      .export(evalId, 'jsonl')
      .text.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { itemId: string });
    expect(jsonl).toHaveLength(12);
    const report = evals.report(evalId);
    expect(report.html).toContain('DRY RUN');
    expect(report.html).toContain('site A');
    expect(report.html).toContain(evals.get(evalId).datasetSha256);
    expect(report.html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(evals.remove(evalId)).toBe(true);
    expect(evals.list()).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM eval_results').get()).toEqual({ n: 0 });
  });
});
