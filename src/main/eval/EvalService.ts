import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type {
  EvalDetail,
  EvalExport,
  EvalItemResult,
  EvalProgressEvent,
  EvalRequest,
  EvalResultsQuery,
  EvalRunnerIdentity,
  EvalStatus,
  EvalSummary,
  ExportedReport,
  ReasoningMode,
  Settings,
} from '../../shared/contract';
import { AppError, CancelledError, InvalidInputError, toErrorPayload } from '../errors/AppError';
import { NotAvailableError } from '../errors/NotAvailableError';
import type { EventBus } from '../ipc/EventBus';
import type { RunRegistry } from '../runs/RunRegistry';
import { applySettingsPatch } from '../settings/validateSettings';
import type { EvalItem } from './datasets/EvalItem';
import { verifyImage } from './datasets/imageFiles';
import { loadDataset } from './datasets/loadDataset';
import { selectItems } from './datasets/selectItems';
import type { EvalStore, StoredEval, StoredResult } from './EvalStore';
import { computeMetrics } from './metrics/computeMetrics';
import { resultsCsv, resultsJsonl } from './report/exportResults';
import { renderReport } from './report/renderReport';
import type { EvalItemRunner, ItemRunOutcome } from './runner/ItemRunner';
import { ScriptedItemRunner } from './runner/ScriptedItemRunner';
import { scoreAnswer } from './scoring/scoreAnswer';

export const allModes: readonly ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];

export interface EvalServiceDeps {
  store: EvalStore;
  runs: RunRegistry;
  bus: EventBus;
  settings: { get(): Settings };
  /** The runner backed by the reasoning loop; null while no model is configured (then only dry runs work). */
  modelRunner: () => EvalItemRunner | null;
  /** Defaults to a ScriptedItemRunner. */
  scriptedRunner?: EvalItemRunner;
  /** Loads the configured models when none is loaded, before a model evaluation is created or resumed. Defaults to none. */
  prepareModels?: () => Promise<void>;
  /**
   * Resolves when the knowledge base is complete: a model evaluation created or resumed while the bundled one is
   * still being built (first start) waits, so its recorded knowledge fingerprint — and every item — sees all of it.
   * Defaults to always ready.
   */
  knowledgeReady?: () => Promise<void>;
  appVersion: string;
  /** Defaults to process.pid. */
  pid?: number;
  /** Whether another process that claimed an evaluation still lives. Defaults to a signal-0 probe. */
  isProcessAlive?: (pid: number) => boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const datasetNames = { 'vqa-rad': 'VQA-RAD', slake: 'SLAKE', jsonl: 'JSONL' } as const;

/**
 * Pilot-study evaluations: freezes a dataset selection in the store, runs every (item, mode) pair through the item
 * runner, records each result as it finishes, and turns the records into metrics, reports and exports. A killed or
 * cancelled evaluation resumes where it stopped, with the settings and model it started with.
 */
export class EvalService {
  readonly #active = new Map<string, string>();
  readonly #pid: number;
  readonly #alive: (pid: number) => boolean;
  readonly #scripted: EvalItemRunner;
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: EvalServiceDeps) {
    this.#pid = deps.pid ?? process.pid;
    this.#alive = deps.isProcessAlive ?? processAlive;
    this.#scripted = deps.scriptedRunner ?? new ScriptedItemRunner();
  }

  /** Dry runs only: simulated time per item (the scripted runner's `delayMs`). */
  configureDryRun(options: { delayMs: number }): void {
    if (this.#scripted instanceof ScriptedItemRunner) this.#scripted.delayMs = options.delayMs;
  }

  /** Cancels this process's evaluation runs and waits until each has recorded how it ended. */
  async dispose(): Promise<void> {
    const active = [...this.#active.values()];
    for (const runId of active) this.deps.runs.cancel(runId);
    await Promise.all(active.map((runId) => this.deps.runs.waitFor(runId)));
  }

  /** Loads and checks the dataset, selects the items and freezes them with the settings; nothing runs yet. */
  async create(request: EvalRequest): Promise<StoredEval> {
    const modes = validateModes(request.modes);
    const dryRun = request.dryRun ?? false;
    if (!dryRun) await this.#prepare();
    const runner = this.#runnerFor(dryRun);
    const dataset = await loadDataset(request.dataset);
    const items = selectItems(dataset.items, {
      ...(request.sample ? { sample: request.sample } : {}),
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
    });
    if (items.length === 0) {
      throw new InvalidInputError(
        `dataset ${dataset.path}`,
        'at least one valid item',
        `none of ${dataset.rows} rows (${dataset.problems.length} problems, first: ${dataset.problems[0]?.message ?? 'none'})`,
      );
    }
    const base = this.deps.settings.get();
    const seed = request.seed ?? base.reasoning.seed;
    const settings = applySettingsPatch(base, {
      reasoning: { ...request.settings?.reasoning, seed },
      ...(request.settings?.retrieval ? { retrieval: request.settings.retrieval } : {}),
    });
    const evaluation: StoredEval = {
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      finishedAt: null,
      status: 'interrupted',
      label: request.label?.trim() || null,
      request: structuredClone(request),
      dataset: {
        format: dataset.format,
        path: dataset.path,
        imagesDir: dataset.imagesDir,
        sha256: dataset.sha256,
        name: `${datasetNames[dataset.format]} ${basename(dataset.path)}`,
        rows: dataset.rows,
        skipped: dataset.skipped,
      },
      settings,
      runner: await runner.describe(settings),
      modes,
      seed,
      dryRun,
      itemCount: items.length,
      ownerPid: null,
      error: null,
      environment: {
        appVersion: this.deps.appVersion,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
    };
    this.deps.store.create(evaluation, items, dataset.problems);
    return evaluation;
  }

  /** Creates the evaluation and starts running it; progress arrives as `eval.progress`, the end as `runs.finished`. */
  async start(request: EvalRequest): Promise<{ runId: string; evalId: string }> {
    const evaluation = await this.create(request);
    return { runId: this.#launch(evaluation.id), evalId: evaluation.id };
  }

  /** Runs what an evaluation is missing: results never recorded and results that failed. */
  async resume(evalId: string): Promise<{ runId: string; evalId: string }> {
    const evaluation = this.#require(evalId);
    if (this.#active.has(evalId)) {
      throw new AppError(
        'EVAL_BUSY',
        `evaluation ${evalId}: expected no active run, found run ${this.#active.get(evalId)}`,
      );
    }
    if (evaluation.status === 'running' && evaluation.ownerPid !== null && evaluation.ownerPid !== this.#pid) {
      if (this.#alive(evaluation.ownerPid)) {
        throw new AppError(
          'EVAL_BUSY',
          `evaluation ${evalId}: expected no process running it, found process ${evaluation.ownerPid} still alive`,
        );
      }
    }
    if (!evaluation.dryRun) await this.#prepare();
    const runner = this.#runnerFor(evaluation.dryRun);
    const identity = await runner.describe(evaluation.settings);
    assertSameRunner(evaluation.runner, identity);
    return { runId: this.#launch(evalId), evalId };
  }

  list(): EvalSummary[] {
    return this.deps.store.list().map((e) => this.#summary(e));
  }

  get(evalId: string): EvalDetail {
    const evaluation = this.#require(evalId);
    const items = this.deps.store.items(evalId);
    const results = this.deps.store.results(evalId);
    return {
      summary: this.#summary(evaluation),
      request: evaluation.request,
      datasetSha256: evaluation.dataset.sha256,
      problems: this.deps.store.problems(evalId),
      settings: evaluation.settings,
      runner: evaluation.runner,
      metrics: computeMetrics(items, results, evaluation.modes),
    };
  }

  results(query: EvalResultsQuery): EvalItemResult[] {
    this.#require(query.evalId);
    const items = this.deps.store.items(query.evalId);
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 200;
    return this.deps.store
      .results(query.evalId)
      .filter((r) => query.mode === undefined || r.mode === query.mode)
      .slice(offset, offset + limit)
      .map((r) => toItemResult(items[r.itemIndex]!, r));
  }

  report(evalId: string): ExportedReport {
    const detail = this.get(evalId);
    const evaluation = this.#require(evalId);
    const items = this.deps.store.items(evalId);
    const results = this.deps.store.results(evalId).map((r) => toItemResult(items[r.itemIndex]!, r));
    return {
      fileName: `eval-${evalId.slice(0, 8)}-report.html`,
      html: renderReport({ detail, evaluation, items, results, generatedAt: new Date().toISOString() }),
    };
  }

  export(evalId: string, format: 'csv' | 'jsonl'): EvalExport {
    this.#require(evalId);
    const items = this.deps.store.items(evalId);
    const results = this.deps.store.results(evalId).map((r) => toItemResult(items[r.itemIndex]!, r));
    const stem = `eval-${evalId.slice(0, 8)}-results`;
    return format === 'csv'
      ? { fileName: `${stem}.csv`, mimeType: 'text/csv', text: resultsCsv(results) }
      : { fileName: `${stem}.jsonl`, mimeType: 'application/x-ndjson', text: resultsJsonl(results) };
  }

  remove(evalId: string): boolean {
    if (this.#active.has(evalId)) {
      throw new AppError(
        'EVAL_BUSY',
        `evaluation ${evalId}: expected no active run, found run ${this.#active.get(evalId)}`,
      );
    }
    return this.deps.store.remove(evalId);
  }

  async #prepare(): Promise<void> {
    await this.deps.prepareModels?.();
    await this.deps.knowledgeReady?.();
  }

  #require(evalId: string): StoredEval {
    const evaluation = this.deps.store.get(evalId);
    if (!evaluation) throw new AppError('EVAL_NOT_FOUND', `expected an evaluation with id ${evalId}, found none`);
    return evaluation;
  }

  #runnerFor(dryRun: boolean): EvalItemRunner {
    if (dryRun) return this.#scripted;
    const runner = this.deps.modelRunner();
    if (!runner) {
      throw new NotAvailableError(
        'evaluation with a model',
        'no reasoning loop is configured (a dry run works without one)',
      );
    }
    return runner;
  }

  #launch(evalId: string): string {
    this.deps.store.claim(evalId, this.#pid);
    // One evaluation at a time: they share one model, and interleaving them would distort every latency.
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => (release = resolve));
    const runId = this.deps.runs.start('eval', async ({ runId, signal }) => {
      try {
        await untilDoneOrAborted(previous, signal, `evaluation ${evalId}`);
        await this.#execute(evalId, runId, signal);
        this.deps.store.setStatus(evalId, 'completed');
      } catch (error) {
        const cancelled = signal.aborted || error instanceof CancelledError;
        this.deps.store.setStatus(evalId, cancelled ? 'cancelled' : 'failed', cancelled ? null : toErrorPayload(error));
        throw error;
      } finally {
        this.#active.delete(evalId);
        release();
      }
    });
    this.#active.set(evalId, runId);
    return runId;
  }

  async #execute(evalId: string, runId: string, signal: AbortSignal): Promise<void> {
    const evaluation = this.#require(evalId);
    const runner = this.#runnerFor(evaluation.dryRun);
    const items = this.deps.store.items(evalId);
    const recorded = new Map(this.deps.store.results(evalId).map((r) => [`${r.itemIndex}|${r.mode}`, r]));
    const todo: { index: number; mode: ReasoningMode }[] = [];
    items.forEach((_, index) => {
      for (const mode of evaluation.modes) {
        if (recorded.get(`${index}|${mode}`)?.status !== 'ok') todo.push({ index, mode });
      }
    });
    const total = items.length * evaluation.modes.length;
    let done = total - todo.length;
    let failed = 0;
    const started = performance.now();
    let finishedThisSession = 0;

    for (const { index, mode } of todo) {
      if (signal.aborted) throw new CancelledError(`evaluation ${evalId}`);
      const item = items[index]!;
      const result = await this.#runOne(runner, evaluation, item, index, mode, signal);
      this.deps.store.putResult(evalId, result);
      done++;
      finishedThisSession++;
      if (result.status === 'failed') failed++;
      const perResult = (performance.now() - started) / finishedThisSession;
      const progress: EvalProgressEvent = {
        runId,
        evalId,
        itemsDone: done,
        itemsTotal: total,
        mode,
        itemId: item.id,
        correct: result.status === 'ok' ? result.correct : null,
        failed,
        etaMs: Math.round(perResult * (total - done)),
      };
      this.deps.bus.emit('eval.progress', progress);
    }
  }

  async #runOne(
    runner: EvalItemRunner,
    evaluation: StoredEval,
    item: EvalItem,
    index: number,
    mode: ReasoningMode,
    signal: AbortSignal,
  ): Promise<StoredResult> {
    const started = performance.now();
    let outcome: ItemRunOutcome;
    try {
      for (const image of item.images) await verifyImage(image);
      outcome = await runner.runItem({ item, mode, seed: evaluation.seed, settings: evaluation.settings, signal });
    } catch (error) {
      if (signal.aborted || error instanceof CancelledError) throw error;
      return failedResult(index, mode, error);
    }
    const latencyMs = performance.now() - started;
    const score = scoreAnswer(item, outcome.answer);
    const first = outcome.attempts[0];
    const reattempted = outcome.attempts.length > 1;
    return {
      itemIndex: index,
      mode,
      status: 'ok',
      answer: outcome.answer,
      correct: score.correct,
      recall: score.recall,
      rule: score.rule,
      confidence: outcome.confidence,
      firstAnswer: reattempted ? (first?.answer ?? null) : null,
      firstCorrect: reattempted ? scoreAnswer(item, first?.answer ?? null).correct : null,
      cdirTriggered: outcome.cdirTriggered,
      reattempted,
      similarCase: outcome.similarCase,
      queries: outcome.queries,
      rounds: outcome.rounds,
      latencyMs,
      timings: outcome.timings,
      endReason: outcome.endReason,
      auditRunId: outcome.auditRunId,
      error: null,
      recordedAt: new Date().toISOString(),
    };
  }

  #summary(evaluation: StoredEval): EvalSummary {
    const counts = this.deps.store.counts(evaluation.id);
    const accuracy: EvalSummary['accuracy'] = {};
    const correct: EvalSummary['correct'] = {};
    for (const mode of evaluation.modes) {
      const c = counts.byMode.get(mode);
      if (!c || c.total === 0) continue;
      accuracy[mode] = c.correct / c.total;
      correct[mode] = { correct: c.correct, total: c.total };
    }
    return {
      evalId: evaluation.id,
      createdAt: evaluation.createdAt,
      finishedAt: evaluation.finishedAt,
      label: evaluation.label,
      dataset: evaluation.dataset.name,
      datasetFormat: evaluation.dataset.format,
      datasetPath: evaluation.dataset.path,
      modes: evaluation.modes,
      items: evaluation.itemCount,
      resultsDone: counts.done,
      resultsTotal: evaluation.itemCount * evaluation.modes.length,
      failed: counts.failed,
      status: this.#status(evaluation),
      dryRun: evaluation.dryRun,
      accuracy,
      correct,
      activeRunId: this.#active.get(evaluation.id) ?? null,
      error: evaluation.error,
    };
  }

  /** A 'running' record whose process is gone (or, in this process, has no active run) was interrupted. */
  #status(evaluation: StoredEval): EvalStatus {
    if (evaluation.status !== 'running') return evaluation.status;
    if (evaluation.ownerPid === this.#pid) return this.#active.has(evaluation.id) ? 'running' : 'interrupted';
    return evaluation.ownerPid !== null && this.#alive(evaluation.ownerPid) ? 'running' : 'interrupted';
  }
}

/** Resolves when `previous` settles; rejects with CancelledError as soon as `signal` aborts. */
function untilDoneOrAborted(previous: Promise<void>, signal: AbortSignal, what: string): Promise<void> {
  if (signal.aborted) return Promise.reject(new CancelledError(what));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new CancelledError(what));
    signal.addEventListener('abort', onAbort, { once: true });
    void previous.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function validateModes(modes: readonly ReasoningMode[] | undefined): ReasoningMode[] {
  const list = modes && modes.length > 0 ? modes : allModes;
  const unknown = list.filter((m) => !allModes.includes(m));
  if (unknown.length > 0) throw new InvalidInputError('modes', allModes.join(' | '), unknown.join(', '));
  return allModes.filter((m) => list.includes(m));
}

function assertSameRunner(recorded: EvalRunnerIdentity, now: EvalRunnerIdentity): void {
  const key = (i: EvalRunnerIdentity): string =>
    JSON.stringify([i.kind, i.models.map((m) => [m.role, m.sha256]).sort()]);
  if (key(recorded) !== key(now)) {
    const describe = (i: EvalRunnerIdentity): string =>
      i.models.map((m) => `${m.role} ${m.name} ${m.sha256.slice(0, 12)}`).join(', ') || i.kind;
    throw new AppError(
      'EVAL_MODEL_CHANGED',
      `resume: expected the models the evaluation started with (${describe(recorded)}), found ${describe(now)}`,
    );
  }
  if (recorded.knowledgeBase !== now.knowledgeBase) {
    const short = (h: string | null): string => (h ? `${h.slice(0, 12)}…` : 'none');
    throw new AppError(
      'EVAL_KNOWLEDGE_CHANGED',
      `resume: expected the knowledge base the evaluation started with (${short(recorded.knowledgeBase)}), found ${short(
        now.knowledgeBase,
      )}: sources were added or removed since; start a new evaluation to compare on the new knowledge base`,
    );
  }
}

function failedResult(itemIndex: number, mode: ReasoningMode, error: unknown): StoredResult {
  return {
    itemIndex,
    mode,
    status: 'failed',
    answer: null,
    correct: null,
    recall: null,
    rule: null,
    confidence: null,
    firstAnswer: null,
    firstCorrect: null,
    cdirTriggered: false,
    reattempted: false,
    similarCase: null,
    queries: [],
    rounds: 0,
    latencyMs: null,
    timings: null,
    endReason: null,
    auditRunId: null,
    error: toErrorPayload(error),
    recordedAt: new Date().toISOString(),
  };
}

export function toItemResult(item: EvalItem, r: StoredResult): EvalItemResult {
  return {
    itemIndex: r.itemIndex,
    itemId: item.id,
    mode: r.mode,
    question: item.question,
    reference: item.answer,
    answerType: item.answerType,
    questionType: item.questionType,
    status: r.status,
    answer: r.answer,
    correct: r.correct,
    recall: r.recall,
    confidence: r.confidence,
    cdirTriggered: r.cdirTriggered,
    firstAnswer: r.firstAnswer,
    queries: r.queries.map((q) => q.query),
    rounds: r.rounds,
    latencyMs: r.latencyMs,
    error: r.error,
    auditRunId: r.auditRunId,
  };
}
