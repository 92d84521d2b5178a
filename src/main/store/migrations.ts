import type { Db } from './openStore';

/** One schema step of one service. Versions start at 1 and increase by 1 per domain. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db) => void;
}

/**
 * Applies the pending migrations of one domain (e.g. "knowledge", "studies"), each in its own transaction.
 * Domains are versioned independently so that services evolve their tables without a global ordering.
 */
export function migrate(db: Db, domain: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    domain TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (domain, version))`);
  const current =
    (db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE domain = ?').get(domain) as { v: number | null })
      .v ?? 0;
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Migrations of "${domain}": expected version ${i + 1} at position ${i}, found ${m.version}`);
    }
  });
  const record = db.prepare(
    'INSERT INTO schema_migrations (domain, version, description, applied_at) VALUES (?, ?, ?, ?)',
  );
  let applied = 0;
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      record.run(domain, m.version, m.description, new Date().toISOString());
    })();
    applied++;
  }
  return applied;
}
