import { migrate } from '../store/migrations';
import type { Db } from '../store/openStore';
import type { HashStore } from './inspect/Sha256Cache';
import type { EngineCrash } from './process/EngineSupervisor';

/** The engine's tables in the app's SQLite store (domain "engine"). */
export function migrateEngineDomain(db: Db): void {
  migrate(db, 'engine', [
    {
      version: 1,
      description: 'model file hashes by path, size and mtime',
      up: (d) =>
        d.exec(`CREATE TABLE engine_model_hashes (
          path TEXT PRIMARY KEY, size_bytes INTEGER NOT NULL, mtime_ms REAL NOT NULL, sha256 TEXT NOT NULL,
          hashed_at TEXT NOT NULL)`),
    },
    {
      version: 2,
      description: 'engine process crashes (audit)',
      up: (d) =>
        d.exec(`CREATE TABLE engine_crashes (
          id INTEGER PRIMARY KEY, at TEXT NOT NULL, pid INTEGER, exit_code INTEGER, signal TEXT,
          interrupted TEXT NOT NULL, last_output TEXT NOT NULL)`),
    },
  ]);
}

/** Model hashes kept between starts, so a 5 GB model is hashed once, not at every start. */
export class SqliteHashStore implements HashStore {
  readonly #get;
  readonly #set;
  constructor(db: Db) {
    migrateEngineDomain(db);
    this.#get = db.prepare<[string, number, number], { sha256: string }>(
      'SELECT sha256 FROM engine_model_hashes WHERE path = ? AND size_bytes = ? AND mtime_ms = ?',
    );
    this.#set = db.prepare<[string, number, number, string, string]>(
      `INSERT INTO engine_model_hashes (path, size_bytes, mtime_ms, sha256, hashed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
       sha256 = excluded.sha256, hashed_at = excluded.hashed_at`,
    );
  }
  get(path: string, sizeBytes: number, mtimeMs: number): string | null {
    return this.#get.get(path, sizeBytes, mtimeMs)?.sha256 ?? null;
  }
  set(path: string, sizeBytes: number, mtimeMs: number, sha256: string): void {
    this.#set.run(path, sizeBytes, mtimeMs, sha256, new Date().toISOString());
  }
}

/** Every engine-process crash, with what it interrupted and the native output before it. */
export class SqliteCrashLog {
  readonly #insert;
  readonly #list;
  constructor(db: Db) {
    migrateEngineDomain(db);
    this.#insert = db.prepare<[string, number | null, number | null, string | null, string, string]>(
      'INSERT INTO engine_crashes (at, pid, exit_code, signal, interrupted, last_output) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#list = db.prepare<[number], { at: string; pid: number | null; exit_code: number | null; signal: string | null; interrupted: string; last_output: string }>(
      'SELECT at, pid, exit_code, signal, interrupted, last_output FROM engine_crashes ORDER BY id DESC LIMIT ?',
    );
  }
  record(crash: EngineCrash): void {
    this.#insert.run(crash.at, crash.pid ?? null, crash.code, crash.signal, JSON.stringify(crash.interrupted), JSON.stringify(crash.lastOutput));
  }
  recent(limit = 20): EngineCrash[] {
    return this.#list.all(limit).map((r) => ({
      at: r.at,
      pid: r.pid ?? undefined,
      code: r.exit_code,
      signal: r.signal,
      interrupted: JSON.parse(r.interrupted) as string[],
      lastOutput: JSON.parse(r.last_output) as string[],
    }));
  }
}
