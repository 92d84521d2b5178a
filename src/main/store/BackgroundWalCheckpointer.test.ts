import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackgroundWalCheckpointer } from './BackgroundWalCheckpointer';
import { openStore, type Db } from './openStore';
import { inlineWalCheckpointer } from './WalCheckpointer';

const scratch = mkdtempSync(join(tmpdir(), 'wal-checkpoint-'));
const checkpointer = new BackgroundWalCheckpointer();
afterAll(async () => {
  await checkpointer.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A store whose WAL holds about 2 MB that SQLite did not copy back (automatic checkpoints off). */
function storeWithWal(name: string): Db {
  const db = openStore(join(scratch, name));
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run(`finding ${i} `.repeat(400));
  })();
  return db;
}

describe('BackgroundWalCheckpointer', () => {
  it('copies the whole WAL into the database file from its worker, as an inline checkpoint does', async () => {
    const db = storeWithWal('background.sqlite');
    const before = statSync(db.name).size;
    const result = await checkpointer.checkpoint(db);
    expect(result.walPages).toBeGreaterThan(400);
    expect(result.checkpointedPages).toBe(result.walPages);
    expect(statSync(db.name).size).toBeGreaterThan(before + 1_000_000);
    // The app's connection reads and writes on as before.
    expect(db.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 500 });
    db.prepare('INSERT INTO notes (body) VALUES (?)').run('after');
    await checkpointer.idle();
    db.close();

    const inline = storeWithWal('inline.sqlite');
    expect((await inlineWalCheckpointer.checkpoint(inline)).walPages).toBe(result.walPages);
    inline.close();
  });

  it('leaves an in-memory store alone', async () => {
    const db = openStore(':memory:');
    expect(await checkpointer.checkpoint(db)).toEqual({ walPages: 0, checkpointedPages: 0 });
    db.close();
  });

  it('rejects with the reason for a store deleted meanwhile, and does not create it again', async () => {
    const db = storeWithWal('deleted.sqlite');
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(db.name + suffix, { force: true });
    await expect(checkpointer.checkpoint(db)).rejects.toMatchObject({ code: 'SQLITE_CANTOPEN' });
    expect(existsSync(db.name)).toBe(false);
    // The worker answers the next checkpoint as before.
    const next = storeWithWal('next.sqlite');
    expect((await checkpointer.checkpoint(next)).checkpointedPages).toBeGreaterThan(0);
    next.close();
  });

  it('finishes a running checkpoint before it closes, then refuses new ones', async () => {
    const own = new BackgroundWalCheckpointer();
    const db = storeWithWal('closing.sqlite');
    const running = own.checkpoint(db);
    await own.close();
    expect((await running).checkpointedPages).toBeGreaterThan(0);
    await expect(own.checkpoint(db)).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    db.close();
  });
});
