import { describe, expect, it } from 'vitest';
import { migrate } from './migrations';
import { openStore } from './openStore';

describe('migrate', () => {
  it('applies each domain’s pending migrations once, in order, and records them', () => {
    const db = openStore(':memory:');
    const steps = [
      { version: 1, description: 'table', up: (d: typeof db) => d.exec('CREATE TABLE t (a INTEGER)') },
      { version: 2, description: 'column', up: (d: typeof db) => d.exec('ALTER TABLE t ADD COLUMN b TEXT') },
    ];
    expect(migrate(db, 'alpha', steps)).toBe(2);
    expect(migrate(db, 'alpha', steps)).toBe(0);
    expect(
      migrate(
        db,
        'beta',
        [steps[0]!].map((s) => ({ ...s, up: (d: typeof db) => d.exec('CREATE TABLE u (a)') })),
      ),
    ).toBe(1);
    const rows = db.prepare('SELECT domain, version FROM schema_migrations ORDER BY domain, version').all();
    expect(rows).toEqual([
      { domain: 'alpha', version: 1 },
      { domain: 'alpha', version: 2 },
      { domain: 'beta', version: 1 },
    ]);
    db.close();
  });

  it('rolls back a failing step entirely and keeps earlier ones', () => {
    const db = openStore(':memory:');
    const steps = [
      { version: 1, description: 'ok', up: (d: typeof db) => d.exec('CREATE TABLE t (a)') },
      {
        version: 2,
        description: 'fails halfway',
        up: (d: typeof db) => {
          d.exec('CREATE TABLE half (a)');
          d.exec('THIS IS NOT SQL');
        },
      },
    ];
    expect(() => migrate(db, 'gamma', steps)).toThrow();
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toContain('t');
    expect(tables).not.toContain('half');
    db.close();
  });

  it('refuses a gap in the version sequence, naming the expected version', () => {
    const db = openStore(':memory:');
    expect(() => migrate(db, 'delta', [{ version: 2, description: 'x', up: () => undefined }])).toThrow(
      /expected version 1 at position 0, found 2/,
    );
    db.close();
  });

  it('opens file stores in WAL mode with sqlite-vec loaded', () => {
    const db = openStore(':memory:');
    expect(db.prepare('SELECT vec_version() AS v').get()).toMatchObject({ v: expect.stringMatching(/^v0\./) });
    db.close();
  });
});
