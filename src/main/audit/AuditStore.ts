import type { HistoryQuery, RunRecord, RunSummary } from '../../shared/contract';
import { AppError, InvalidInputError } from '../errors/AppError';
import { migrate, type Migration } from '../store/migrations';
import type { Db } from '../store/openStore';

/** Raised when a run id names no record. */
export class RunNotFoundError extends AppError {
  constructor(runId: string) {
    super('RUN_NOT_FOUND', `history: expected a recorded run with id ${JSON.stringify(runId)}, found none`);
  }
}

const auditMigrations: Migration[] = [
  {
    version: 1,
    description: 'run records and the exact images the model saw',
    up: (db) =>
      db.exec(`
        CREATE TABLE audit_images (
          sha256 TEXT PRIMARY KEY,
          mime TEXT NOT NULL,
          bytes BLOB NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE audit_runs (
          run_id TEXT PRIMARY KEY,
          started_at TEXT NOT NULL,
          finished_at TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('completed', 'cancelled', 'failed')),
          question TEXT NOT NULL,
          mode TEXT NOT NULL,
          study_uid TEXT,
          image_sha256 TEXT REFERENCES audit_images (sha256),
          case_image_sha256 TEXT REFERENCES audit_images (sha256),
          answer TEXT,
          confidence REAL,
          cdir_triggered INTEGER NOT NULL,
          replay_of TEXT,
          record_json TEXT NOT NULL
        );
        CREATE INDEX audit_runs_started ON audit_runs (started_at DESC);
        CREATE INDEX audit_runs_study ON audit_runs (study_uid, started_at DESC);
      `),
  },
];

interface SummaryRow {
  run_id: string;
  started_at: string;
  status: RunSummary['status'];
  question: string;
  mode: RunSummary['mode'];
  study_uid: string | null;
  answer: string | null;
  confidence: number | null;
  cdir_triggered: number;
  replay_of: string | null;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * The audit trail of reasoning runs, in the app's SQLite store (domain "audit"): one row per run holding the full
 * record as JSON (what was asked, what the model saw and wrote, what was retrieved, confidences, CDIR decision,
 * settings, model hashes, timings) plus the exact image bytes, stored once per sha256. Records are written once,
 * at the end of a run, in one transaction, and never updated.
 */
export class AuditStore {
  readonly #insertRun;
  readonly #insertImage;
  readonly #getRecord;
  readonly #getImage;
  readonly #listAll;
  readonly #listStudy;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'audit', auditMigrations);
    this.#insertImage = db.prepare<[string, string, Uint8Array, string]>(
      'INSERT OR IGNORE INTO audit_images (sha256, mime, bytes, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#insertRun = db.prepare(
      `INSERT INTO audit_runs (run_id, started_at, finished_at, status, question, mode, study_uid, image_sha256,
         case_image_sha256, answer, confidence, cdir_triggered, replay_of, record_json)
       VALUES (@runId, @startedAt, @finishedAt, @status, @question, @mode, @studyUid, @imageSha256, @caseImageSha256,
         @answer, @confidence, @cdirTriggered, @replayOf, @json)`,
    );
    this.#getRecord = db.prepare<[string], { record_json: string }>('SELECT record_json FROM audit_runs WHERE run_id = ?');
    this.#getImage = db.prepare<[string], { mime: string; bytes: Buffer }>('SELECT mime, bytes FROM audit_images WHERE sha256 = ?');
    const columns = 'run_id, started_at, status, question, mode, study_uid, answer, confidence, cdir_triggered, replay_of';
    this.#listAll = db.prepare<[number], SummaryRow>(
      `SELECT ${columns} FROM audit_runs ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    );
    this.#listStudy = db.prepare<[string, number], SummaryRow>(
      `SELECT ${columns} FROM audit_runs WHERE study_uid = ? ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    );
  }

  /**
   * Stores a run record with the images it refers to, atomically. `images` must hold the bytes of the record's
   * study image and similar-case image (keyed by sha256) unless they are already stored.
   */
  save(record: RunRecord, images: { sha256: string; mime: string; bytes: Uint8Array }[] = []): void {
    const caseImageSha256 = record.cdir.caseImageSha256;
    this.#db.transaction(() => {
      const now = new Date().toISOString();
      for (const image of images) this.#insertImage.run(image.sha256, image.mime, image.bytes, now);
      for (const sha of [record.imageSha256, caseImageSha256]) {
        if (sha && !this.#getImage.get(sha)) {
          throw new InvalidInputError('audit record', `the bytes of image ${sha} with the record`, 'none');
        }
      }
      this.#insertRun.run({
        runId: record.runId,
        startedAt: record.startedAt,
        finishedAt: record.finishedAt,
        status: record.status,
        question: record.question,
        mode: record.mode,
        studyUid: record.studyInstanceUid,
        imageSha256: record.imageSha256,
        caseImageSha256,
        answer: record.answer,
        confidence: record.confidence,
        cdirTriggered: record.cdirTriggered ? 1 : 0,
        replayOf: record.replayOf,
        json: JSON.stringify(record),
      });
    })();
  }

  get(runId: string): RunRecord {
    const row = this.#getRecord.get(runId);
    if (!row) throw new RunNotFoundError(runId);
    return JSON.parse(row.record_json) as RunRecord;
  }

  has(runId: string): boolean {
    return this.#getRecord.get(runId) !== undefined;
  }

  image(sha256: string): { mime: string; bytes: Uint8Array } | null {
    const row = this.#getImage.get(sha256);
    return row ? { mime: row.mime, bytes: new Uint8Array(row.bytes) } : null;
  }

  list(query: HistoryQuery = {}): RunSummary[] {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new InvalidInputError('history limit', `an integer from 1 to ${MAX_LIMIT}`, String(query.limit));
    }
    const rows =
      query.studyInstanceUid === undefined ? this.#listAll.all(limit) : this.#listStudy.all(query.studyInstanceUid, limit);
    return rows.map((r) => ({
      runId: r.run_id,
      startedAt: r.started_at,
      question: r.question,
      answer: r.answer,
      confidence: r.confidence,
      mode: r.mode,
      cdirTriggered: r.cdir_triggered === 1,
      status: r.status,
      studyInstanceUid: r.study_uid,
      replayOf: r.replay_of,
    }));
  }
}
