/**
 * Worker-thread entry of WorkerSourcePreparer: parses and chunks files for ingestion off the writer's thread. Built as
 * its own entry by electron-vite (out/main/sourcePreparerWorker.js); under vitest and tsx it starts from this source.
 */
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../../workers/serializedError';
import { packSource } from './packedSource';
import { prepareSource } from './prepareSource';
import type { PrepareReply, PrepareRequest } from './preparerProtocol';

const port = parentPort;
if (!port) throw new Error('sourcePreparerWorker: expected to run in a worker thread, found the main thread');

// One file at a time, in the order asked: a PDF's parse awaits, and two at once would only share one core.
let queue = Promise.resolve();
port.on('message', (request: PrepareRequest) => {
  queue = queue.then(async () => {
    let reply: PrepareReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const { packed, transfer: buffers } = packSource(
        await prepareSource(request.raw, request.path, request.chunking),
      );
      reply = { id: request.id, ok: true, source: packed };
      transfer = buffers;
    } catch (error) {
      reply = { id: request.id, ok: false, error: serializeError(error) };
    }
    port.postMessage(reply, transfer);
  });
});
