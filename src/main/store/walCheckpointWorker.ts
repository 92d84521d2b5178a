/**
 * Worker-thread entry of BackgroundWalCheckpointer: copies a database's WAL into the database file on its own
 * connection, off the thread that writes. Built as its own entry by electron-vite (out/main/walCheckpointWorker.js);
 * under vitest and tsx it starts from this source.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../workers/serializedError';
import type { CheckpointReply, CheckpointRequest } from './walCheckpointProtocol';

const port = parentPort;
if (!port) throw new Error('walCheckpointWorker: expected to run in a worker thread, found the main thread');

port.on('message', ({ id, path }: CheckpointRequest) => {
  let reply: CheckpointReply;
  try {
    // fileMustExist: a store deleted meanwhile must not come back as an empty file.
    const db = new Database(path, { fileMustExist: true });
    try {
      // PASSIVE never waits for the app's readers or writers, and they never wait for it.
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      reply = { id, ok: true, walPages: result?.log ?? 0, checkpointedPages: result?.checkpointed ?? 0 };
    } finally {
      db.close();
    }
  } catch (error) {
    reply = { id, ok: false, error: serializeError(error) };
  }
  port.postMessage(reply);
});
