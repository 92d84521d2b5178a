import { AppError, CancelledError } from '../../errors/AppError';
import { RequestWorker } from '../../workers/RequestWorker';
import { findWorkerEntry } from '../../workers/startWorker';
import type { ChunkOptions } from '../text/chunkDocument';
import { unpackSource } from './packedSource';
import type { PrepareReply, PrepareRequest } from './preparerProtocol';
import type { PreparedSource } from './prepareSource';
import type { SourcePreparer } from './SourcePreparer';

/** The worker entry next to this module: the electron-vite build's `sourcePreparerWorker.js`, or the source. */
export function defaultSourcePreparerEntry(): string {
  return findWorkerEntry(import.meta.url, 'sourcePreparerWorker', [
    'sourcePreparerWorker.ts',
    'ingest/sourcePreparerWorker.ts',
    'knowledge/ingest/sourcePreparerWorker.ts',
  ]);
}

/**
 * Parses and chunks ingestion's files on one worker thread, so that on two cores the next file is parsed while the
 * knowledge service writes this one (SQLite and FTS5 indexing stay on the service's thread, in its transaction).
 * The worker starts on first use and is unref'd while idle (a CLI exits normally). A worker that dies fails the files
 * it held with KNOWLEDGE_WORKER_FAILED and is replaced on the next file.
 */
export class WorkerSourcePreparer implements SourcePreparer {
  readonly #worker: RequestWorker<PrepareRequest, PrepareReply>;
  #closed = false;

  constructor(entry: string = defaultSourcePreparerEntry()) {
    this.#worker = new RequestWorker(entry);
  }

  async prepare(raw: Uint8Array, path: string, chunking: ChunkOptions, signal?: AbortSignal): Promise<PreparedSource> {
    if (this.#closed)
      throw new AppError('NOT_AVAILABLE', `parsing ${path}: expected an open preparer, found it closed`);
    if (signal?.aborted) throw new CancelledError('ingestion');
    // A buffer that is a view into a larger one (Node's pool for small files) is copied rather than transferred.
    const owned = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
    const { id, reply } = this.#worker.send(
      (id) => ({ id, path, raw: owned, chunking }),
      (why) =>
        new AppError(
          'KNOWLEDGE_WORKER_FAILED',
          `parsing ${path}: expected the parse worker to answer, found it ${why}`,
        ),
      [owned.buffer as ArrayBuffer],
    );
    const answered = reply.then((answer) => {
      if (!answer.ok) throw new AppError(answer.error.code, answer.error.message);
      return unpackSource(answer.source);
    });
    if (!signal) return answered;
    return new Promise<PreparedSource>((resolve, reject) => {
      const onAbort = (): void => {
        // The worker finishes the file anyway; its answer finds no request and is dropped.
        this.#worker.forget(id);
        reject(new CancelledError('ingestion'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      answered.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate('closed');
  }
}
