/**
 * Worker-thread entry of BackgroundWalCheckpointer: copies a database's WAL into the database file on its own
 * connection, off the thread that writes. Built as its own entry by electron-vite (out/main/walCheckpointWorker.js);
 * under vitest and tsx it starts from this source.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../workers/serializedError';
import { checkpointPassive } from './WalCheckpointer';
import type { CheckpointReply, CheckpointRequest } from './walCheckpointProtocol';

const port = parentPort;
if (!port) throw new Error('walCheckpointWorker: expected to run in a worker thread, found the main thread');

port.on('message', ({ id, path }: CheckpointRequest) => {
  let reply: CheckpointReply;
  try {
    // fileMustExist: a store deleted meanwhile must not come back as an empty file.
    const db = new Database(path, { fileMustExist: true });
    try {
      reply = { id, ok: true, ...checkpointPassive(db) };
    } finally {
      db.close();
    }
  } catch (error) {
    reply = { id, ok: false, error: serializeError(error) };
  }
  port.postMessage(reply);
});
