import type { HeaderRecord } from './headerRecord';
import type { HeaderReader } from './importStudies';
import type { PixelExecutor } from './pixels/PixelExecutor';
import type { HeaderArgs } from './pixels/pixelTasks';
import { deserializeError } from './pixels/poolProtocol';

interface Waiting {
  file: HeaderArgs;
  resolve(record: HeaderRecord): void;
  reject(error: unknown): void;
}

/**
 * A HeaderReader that gathers the reads an import asks for in one turn of the event loop and hands them to the
 * executor as batches ('headers' tasks of up to `batchSize` files). A header read takes ~0.15 ms; a message to a
 * worker that has gone idle, and the answer back, each wake a sleeping thread, which on a loaded or virtualised
 * machine costs as much again or more. Per batch, that price is paid once. Each file still settles on its own:
 * its record, or its error as a DicomError/AppError again.
 */
export function batchedHeaderReader(
  executor: PixelExecutor,
  options: { batchSize: number; signal?: AbortSignal },
): HeaderReader {
  let waiting: Waiting[] = [];
  const send = (): void => {
    const all = waiting;
    waiting = [];
    for (let start = 0; start < all.length; start += options.batchSize) {
      const batch = all.slice(start, start + options.batchSize);
      executor.run('headers', { files: batch.map((w) => w.file) }, { priority: 'bulk', signal: options.signal }).then(
        (outcomes) =>
          outcomes.forEach((outcome, i) =>
            outcome.ok ? batch[i]!.resolve(outcome.record) : batch[i]!.reject(deserializeError(outcome.error)),
          ),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      );
    }
  };
  return (path, known) =>
    new Promise<HeaderRecord>((resolve, reject) => {
      // setImmediate, not a microtask: the importer asks for the next file between awaits of resolved reads, and all
      // of those asks belong in one batch.
      if (waiting.length === 0) setImmediate(send);
      waiting.push({ file: { path, known }, resolve, reject });
    });
}
