import { resolve } from 'node:path';
import { AppError } from '../errors/AppError';
import { RequestWorker } from '../workers/RequestWorker';
import { findWorkerEntry } from '../workers/startWorker';
import type { Db } from './openStore';
import type { CheckpointResult, WalCheckpointer } from './WalCheckpointer';
import type { CheckpointReply, CheckpointRequest } from './walCheckpointProtocol';

/** The worker entry next to this module: the electron-vite build's `walCheckpointWorker.js`, or the source. */
export function defaultWalCheckpointEntry(): string {
  return findWorkerEntry(import.meta.url, 'walCheckpointWorker', [
    'walCheckpointWorker.ts',
    'store/walCheckpointWorker.ts',
  ]);
}

/**
 * Checkpoints on a worker thread with a connection of its own, opened and closed per checkpoint, so the thread that
 * wrote (the app's main thread) does not spend the copy: after the bundled knowledge base about 60 ms, a tenth of the
 * ingestion. An in-memory store has no WAL and is left alone.
 * Whoever deletes or replaces the database file must wait for `idle()` first: a connection closing on a file that was
 * swapped underneath it removes the new file's WAL by name. `close()` waits for it too.
 */
export class BackgroundWalCheckpointer implements WalCheckpointer {
  readonly #worker: RequestWorker<CheckpointRequest, CheckpointReply>;
  #closed = false;

  constructor(entry: string = defaultWalCheckpointEntry()) {
    this.#worker = new RequestWorker(entry);
  }

  async checkpoint(db: Db): Promise<CheckpointResult> {
    if (db.memory) return { walPages: 0, checkpointedPages: 0 };
    if (this.#closed)
      throw new AppError('NOT_AVAILABLE', 'WAL checkpoint: expected an open checkpointer, found it closed');
    const { reply } = this.#worker.send(
      (id) => ({ id, path: resolve(db.name) }),
      (why) =>
        new AppError(
          'CHECKPOINT_FAILED',
          `WAL checkpoint of ${db.name}: expected the worker to answer, found it ${why}`,
        ),
    );
    const answer = await reply;
    if (!answer.ok) throw new AppError(answer.error.code, answer.error.message);
    return { walPages: answer.walPages, checkpointedPages: answer.checkpointedPages };
  }

  /** Resolves once no checkpoint is running. */
  idle(): Promise<void> {
    return this.#worker.idle();
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A checkpoint is never cut off: a connection left open on a stopped thread would keep its locks in this process.
    await this.#worker.idle();
    await this.#worker.terminate('closed');
  }
}
