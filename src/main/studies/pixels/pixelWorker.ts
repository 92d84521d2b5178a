/**
 * Worker-thread entry of the pixel pool (PixelPool.ts): runs pixel tasks off the main thread and sends results back
 * with their typed arrays transferred. Built as its own entry by electron-vite (out/main/pixelWorker.js); under
 * vitest and tsx the pool starts it from this source file.
 */
import { parentPort } from 'node:worker_threads';
import { CancelledError } from '../../errors/AppError';
import { serializeError } from '../../workers/serializedError';
import { ownedBuffers, type FromWorker, type ToWorker } from './poolProtocol';
import { createTaskContext, runTask } from './pixelTasks';

const port = parentPort;
if (!port) throw new Error('pixelWorker: expected to run in a worker thread, found the main thread');

const context = createTaskContext(true);
const running = new Set<number>();
const cancelled = new Set<number>();

async function handle(message: Extract<ToWorker, { type: 'task' }>): Promise<void> {
  const { id, task, args } = message;
  let reply: FromWorker;
  let transfer: ArrayBuffer[] = [];
  running.add(id);
  try {
    const result = await runTask(
      {
        ...context,
        checkCancelled: () => {
          if (cancelled.has(id)) throw new CancelledError(`studies ${task}`);
        },
      },
      task,
      args,
    );
    const owned = ownedBuffers(result);
    transfer = owned.transfer;
    reply = { type: 'result', id, ok: true, result: owned.value };
  } catch (error) {
    reply = { type: 'result', id, ok: false, error: serializeError(error) };
  } finally {
    running.delete(id);
    cancelled.delete(id);
  }
  port!.postMessage(reply, transfer);
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'task') {
    void handle(message);
    return;
  }
  // A task starts when its message arrives, so a cancel finds it running — or already answered, and is ignored.
  if (running.has(message.id)) cancelled.add(message.id);
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
