import type { Db } from './openStore';

/** What a checkpoint did: the WAL's size in pages and how many of them are now in the database file. */
export interface CheckpointResult {
  walPages: number;
  checkpointedPages: number;
}

/**
 * Copies the write-ahead log into the database file after a bulk write (ingestion raises SQLite's automatic checkpoint
 * threshold while it writes, then asks for one checkpoint here). Inline on the calling thread, or in the background
 * (BackgroundWalCheckpointer, what the app uses). Either way the data was durable in the WAL before: this is upkeep.
 */
export interface WalCheckpointer {
  checkpoint(db: Db): Promise<CheckpointResult>;
  close(): Promise<void>;
}

/** A PASSIVE checkpoint on `db`'s connection: it never waits for other readers or writers, nor they for it. */
export function checkpointPassive(db: Db): CheckpointResult {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  return { walPages: result?.log ?? 0, checkpointedPages: result?.checkpointed ?? 0 };
}

/** Checkpoints on the caller's connection and thread: done when the call returns. */
export const inlineWalCheckpointer: WalCheckpointer = {
  checkpoint: (db) => Promise.resolve(checkpointPassive(db)),
  close: async () => undefined,
};
