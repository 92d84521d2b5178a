import type {
  ConfidenceReport,
  DatasetProblem,
  ErrorPayload,
  EvalDatasetFormat,
  EvalRequest,
  EvalRunnerIdentity,
  EvalStatus,
  ReasoningMode,
  Settings,
} from '../../shared/contract';
import { migrate } from '../store/migrations';
import type { Db } from '../store/openStore';
import type { EvalItem } from './datasets/EvalItem';
import type { ItemQuery } from './runner/ItemRunner';

export interface StoredDataset {
  format: EvalDatasetFormat;
  path: string;
  imagesDir: string;
  sha256: string;
  /** Display name, e.g. "VQA-RAD testset.json". */
  name: string;
  rows: number;
  skipped: { reason: string; rows: number }[];
}

export interface StoredEval {
  id: string;
  createdAt: string;
  finishedAt: string | null;
  status: EvalStatus;
  label: string | null;
  request: EvalRequest;
  dataset: StoredDataset;
  settings: Settings;
  runner: EvalRunnerIdentity;
  modes: ReasoningMode[];
  seed: number;
  dryRun: boolean;
  itemCount: number;
  /** Process that runs (or last ran) this evaluation; a 'running' row whose process is gone was interrupted. */
  ownerPid: number | null;
  error: ErrorPayload | null;
  /** Application version and platform when the evaluation was created. */
  environment: Record<string, string>;
}

/** One (item, mode) result as recorded the moment it finished. */
export interface StoredResult {
  itemIndex: number;
  mode: ReasoningMode;
  status: 'ok' | 'failed';
  answer: string | null;
  correct: boolean | null;
  recall: number | null;
  rule: string | null;
  confidence: ConfidenceReport | null;
  firstAnswer: string | null;
  firstCorrect: boolean | null;
  cdirTriggered: boolean;
  /** CDIR found a case and ran a second attempt. */
  reattempted: boolean;
  similarCase: { caseId: number; title: string; score: number } | null;
  queries: ItemQuery[];
  rounds: number;
  latencyMs: number | null;
  timings: { totalMs: number; modelMs: number; retrievalMs: number } | null;
  endReason: string | null;
  auditRunId: string | null;
  error: ErrorPayload | null;
  recordedAt: string;
}

export interface ResultCounts {
  done: number;
  failed: number;
  byMode: Map<ReasoningMode, { correct: number; total: number }>;
}

interface EvalRow {
  id: string;
  created_at: string;
  finished_at: string | null;
  status: EvalStatus;
  label: string | null;
  request_json: string;
  dataset_json: string;
  settings_json: string;
  runner_json: string;
  modes_json: string;
  seed: number;
  dry_run: number;
  item_count: number;
  owner_pid: number | null;
  error_json: string | null;
  environment_json: string;
}

interface ResultRow {
  item_index: number;
  mode: ReasoningMode;
  status: 'ok' | 'failed';
  answer: string | null;
  correct: number | null;
  recall: number | null;
  rule: string | null;
  confidence_json: string | null;
  first_answer: string | null;
  first_correct: number | null;
  cdir_triggered: number;
  reattempted: number;
  similar_case_json: string | null;
  queries_json: string;
  rounds: number;
  latency_ms: number | null;
  timings_json: string | null;
  end_reason: string | null;
  audit_run_id: string | null;
  error_json: string | null;
  recorded_at: string;
}

const migrations = [
  {
    version: 1,
    description: 'evaluations, their frozen items, dataset problems and per-(item, mode) results',
    up: (db: Db) =>
      db.exec(`
        CREATE TABLE eval_runs (
          id TEXT PRIMARY KEY,
          created_at TEXT NOT NULL,
          finished_at TEXT,
          status TEXT NOT NULL CHECK (status IN ('running','completed','cancelled','failed','interrupted')),
          label TEXT,
          request_json TEXT NOT NULL,
          dataset_json TEXT NOT NULL,
          settings_json TEXT NOT NULL,
          runner_json TEXT NOT NULL,
          modes_json TEXT NOT NULL,
          seed INTEGER NOT NULL,
          dry_run INTEGER NOT NULL,
          item_count INTEGER NOT NULL,
          owner_pid INTEGER,
          error_json TEXT,
          environment_json TEXT NOT NULL
        );
        CREATE TABLE eval_items (
          eval_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
          item_index INTEGER NOT NULL,
          item_id TEXT NOT NULL,
          item_json TEXT NOT NULL,
          PRIMARY KEY (eval_id, item_index)
        );
        CREATE TABLE eval_problems (
          eval_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
          row INTEGER NOT NULL,
          item_id TEXT,
          code TEXT NOT NULL,
          message TEXT NOT NULL
        );
        CREATE INDEX eval_problems_by_eval ON eval_problems(eval_id);
        CREATE TABLE eval_results (
          eval_id TEXT NOT NULL,
          item_index INTEGER NOT NULL,
          mode TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('ok','failed')),
          answer TEXT,
          correct INTEGER,
          recall REAL,
          rule TEXT,
          confidence_json TEXT,
          first_answer TEXT,
          first_correct INTEGER,
          cdir_triggered INTEGER NOT NULL,
          reattempted INTEGER NOT NULL,
          similar_case_json TEXT,
          queries_json TEXT NOT NULL,
          rounds INTEGER NOT NULL,
          latency_ms REAL,
          timings_json TEXT,
          end_reason TEXT,
          audit_run_id TEXT,
          error_json TEXT,
          recorded_at TEXT NOT NULL,
          PRIMARY KEY (eval_id, item_index, mode),
          FOREIGN KEY (eval_id, item_index) REFERENCES eval_items(eval_id, item_index) ON DELETE CASCADE
        );`),
  },
];

const json = (value: unknown): string => JSON.stringify(value);
const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const bool = (value: number | null): boolean | null => (value === null ? null : value !== 0);

/**
 * The evaluation tables (migration domain "eval") in the app's one SQLite store. Every result is written the moment it
 * finishes, in its own statement, so a killed process loses at most the item in flight.
 */
export class EvalStore {
  readonly #insertEval;
  readonly #insertItem;
  readonly #insertProblem;
  readonly #getEval;
  readonly #listEvals;
  readonly #items;
  readonly #problems;
  readonly #results;
  readonly #putResult;
  readonly #updateStatus;
  readonly #claim;
  readonly #counts;
  readonly #remove;

  constructor(private readonly db: Db) {
    migrate(db, 'eval', migrations);
    this.#insertEval = db.prepare(
      `INSERT INTO eval_runs (id, created_at, finished_at, status, label, request_json, dataset_json, settings_json,
        runner_json, modes_json, seed, dry_run, item_count, owner_pid, error_json, environment_json)
       VALUES (@id, @created_at, @finished_at, @status, @label, @request_json, @dataset_json, @settings_json,
        @runner_json, @modes_json, @seed, @dry_run, @item_count, @owner_pid, @error_json, @environment_json)`,
    );
    this.#insertItem = db.prepare(
      'INSERT INTO eval_items (eval_id, item_index, item_id, item_json) VALUES (?, ?, ?, ?)',
    );
    this.#insertProblem = db.prepare(
      'INSERT INTO eval_problems (eval_id, row, item_id, code, message) VALUES (?, ?, ?, ?, ?)',
    );
    this.#getEval = db.prepare<[string], EvalRow>('SELECT * FROM eval_runs WHERE id = ?');
    this.#listEvals = db.prepare<[], EvalRow>('SELECT * FROM eval_runs ORDER BY created_at DESC, id');
    this.#items = db.prepare<[string], { item_json: string }>(
      'SELECT item_json FROM eval_items WHERE eval_id = ? ORDER BY item_index',
    );
    this.#problems = db.prepare<[string], { row: number; item_id: string | null; code: string; message: string }>(
      'SELECT row, item_id, code, message FROM eval_problems WHERE eval_id = ? ORDER BY row',
    );
    this.#results = db.prepare<[string], ResultRow>(
      'SELECT * FROM eval_results WHERE eval_id = ? ORDER BY item_index, mode',
    );
    this.#putResult = db.prepare(
      `INSERT OR REPLACE INTO eval_results (eval_id, item_index, mode, status, answer, correct, recall, rule,
        confidence_json, first_answer, first_correct, cdir_triggered, reattempted, similar_case_json, queries_json,
        rounds, latency_ms, timings_json, end_reason, audit_run_id, error_json, recorded_at)
       VALUES (@eval_id, @item_index, @mode, @status, @answer, @correct, @recall, @rule, @confidence_json,
        @first_answer, @first_correct, @cdir_triggered, @reattempted, @similar_case_json, @queries_json, @rounds,
        @latency_ms, @timings_json, @end_reason, @audit_run_id, @error_json, @recorded_at)`,
    );
    this.#updateStatus = db.prepare('UPDATE eval_runs SET status = ?, finished_at = ?, error_json = ? WHERE id = ?');
    this.#claim = db.prepare(
      "UPDATE eval_runs SET status = 'running', owner_pid = ?, finished_at = NULL, error_json = NULL WHERE id = ?",
    );
    this.#counts = db.prepare<[string], { mode: ReasoningMode; done: number; failed: number; correct: number }>(
      `SELECT mode, COUNT(*) AS done, SUM(status = 'failed') AS failed, SUM(COALESCE(correct, 0)) AS correct
       FROM eval_results WHERE eval_id = ? GROUP BY mode`,
    );
    this.#remove = db.prepare('DELETE FROM eval_runs WHERE id = ?');
  }

  create(evaluation: StoredEval, items: readonly EvalItem[], problems: readonly DatasetProblem[]): void {
    this.db.transaction(() => {
      this.#insertEval.run({
        id: evaluation.id,
        created_at: evaluation.createdAt,
        finished_at: evaluation.finishedAt,
        status: evaluation.status,
        label: evaluation.label,
        request_json: json(evaluation.request),
        dataset_json: json(evaluation.dataset),
        settings_json: json(evaluation.settings),
        runner_json: json(evaluation.runner),
        modes_json: json(evaluation.modes),
        seed: evaluation.seed,
        dry_run: evaluation.dryRun ? 1 : 0,
        item_count: items.length,
        owner_pid: evaluation.ownerPid,
        error_json: evaluation.error ? json(evaluation.error) : null,
        environment_json: json(evaluation.environment),
      });
      items.forEach((item, index) => this.#insertItem.run(evaluation.id, index, item.id, json(item)));
      for (const p of problems) this.#insertProblem.run(evaluation.id, p.row, p.itemId, p.code, p.message);
    })();
  }

  get(id: string): StoredEval | null {
    const row = this.#getEval.get(id);
    return row ? toStoredEval(row) : null;
  }

  list(): StoredEval[] {
    return this.#listEvals.all().map(toStoredEval);
  }

  items(id: string): EvalItem[] {
    return this.#items.all(id).map((r) => JSON.parse(r.item_json) as EvalItem);
  }

  problems(id: string): DatasetProblem[] {
    return this.#problems.all(id).map((r) => ({ row: r.row, itemId: r.item_id, code: r.code, message: r.message }));
  }

  results(id: string): StoredResult[] {
    return this.#results.all(id).map(toStoredResult);
  }

  counts(id: string): ResultCounts {
    const counts: ResultCounts = { done: 0, failed: 0, byMode: new Map() };
    for (const row of this.#counts.all(id)) {
      counts.done += row.done;
      counts.failed += row.failed;
      counts.byMode.set(row.mode, { correct: row.correct, total: row.done });
    }
    return counts;
  }

  putResult(evalId: string, result: StoredResult): void {
    const int = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);
    this.#putResult.run({
      eval_id: evalId,
      item_index: result.itemIndex,
      mode: result.mode,
      status: result.status,
      answer: result.answer,
      correct: int(result.correct),
      recall: result.recall,
      rule: result.rule,
      confidence_json: result.confidence ? json(result.confidence) : null,
      first_answer: result.firstAnswer,
      first_correct: int(result.firstCorrect),
      cdir_triggered: result.cdirTriggered ? 1 : 0,
      reattempted: result.reattempted ? 1 : 0,
      similar_case_json: result.similarCase ? json(result.similarCase) : null,
      queries_json: json(result.queries),
      rounds: result.rounds,
      latency_ms: result.latencyMs,
      timings_json: result.timings ? json(result.timings) : null,
      end_reason: result.endReason,
      audit_run_id: result.auditRunId,
      error_json: result.error ? json(result.error) : null,
      recorded_at: result.recordedAt,
    });
  }

  /** Marks the evaluation as run by this process. */
  claim(id: string, pid: number): void {
    this.#claim.run(pid, id);
  }

  setStatus(id: string, status: EvalStatus, error: ErrorPayload | null = null): void {
    this.#updateStatus.run(
      status,
      status === 'running' ? null : new Date().toISOString(),
      error ? json(error) : null,
      id,
    );
  }

  remove(id: string): boolean {
    return this.#remove.run(id).changes > 0;
  }
}

function toStoredEval(row: EvalRow): StoredEval {
  return {
    id: row.id,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    status: row.status,
    label: row.label,
    request: JSON.parse(row.request_json) as EvalRequest,
    dataset: JSON.parse(row.dataset_json) as StoredDataset,
    settings: JSON.parse(row.settings_json) as Settings,
    runner: JSON.parse(row.runner_json) as EvalRunnerIdentity,
    modes: JSON.parse(row.modes_json) as ReasoningMode[],
    seed: row.seed,
    dryRun: row.dry_run !== 0,
    itemCount: row.item_count,
    ownerPid: row.owner_pid,
    error: parse<ErrorPayload>(row.error_json),
    environment: JSON.parse(row.environment_json) as Record<string, string>,
  };
}

function toStoredResult(row: ResultRow): StoredResult {
  return {
    itemIndex: row.item_index,
    mode: row.mode,
    status: row.status,
    answer: row.answer,
    correct: bool(row.correct),
    recall: row.recall,
    rule: row.rule,
    confidence: parse<ConfidenceReport>(row.confidence_json),
    firstAnswer: row.first_answer,
    firstCorrect: bool(row.first_correct),
    cdirTriggered: row.cdir_triggered !== 0,
    reattempted: row.reattempted !== 0,
    similarCase: parse(row.similar_case_json),
    queries: JSON.parse(row.queries_json) as ItemQuery[],
    rounds: row.rounds,
    latencyMs: row.latency_ms,
    timings: parse(row.timings_json),
    endReason: row.end_reason,
    auditRunId: row.audit_run_id,
    error: parse<ErrorPayload>(row.error_json),
    recordedAt: row.recorded_at,
  };
}
