import type { Worker } from 'node:worker_threads';
import { AppError, CancelledError } from '../../errors/AppError';
import { findWorkerEntry, startWorker } from '../../workers/startWorker';
import type { ChunkOptions } from '../text/chunkDocument';
import type { PrepareReply, PrepareRequest } from './preparerProtocol';
import type { PreparedSource } from './prepareSource';
import type { SourcePreparer } from './SourcePreparer';

interface Job {
  path: string;
  resolve(source: PreparedSource): void;
  reject(error: unknown): void;
}

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
  readonly #entry: string;
  readonly #jobs = new Map<number, Job>();
  #worker: Worker | null = null;
  #nextId = 1;
  #closed = false;

  constructor(entry: string = defaultSourcePreparerEntry()) {
    this.#entry = entry;
  }

  prepare(raw: Uint8Array, path: string, chunking: ChunkOptions, signal?: AbortSignal): Promise<PreparedSource> {
    if (this.#closed) {
      return Promise.reject(
        new AppError('NOT_AVAILABLE', `parsing ${path}: expected an open preparer, found it closed`),
      );
    }
    if (signal?.aborted) return Promise.reject(new CancelledError('ingestion'));
    return new Promise<PreparedSource>((resolve, reject) => {
      const id = this.#nextId++;
      const onAbort = (): void => {
        // The worker finishes the file anyway; its answer finds no job and is dropped.
        this.#jobs.delete(id);
        this.#idle();
        reject(new CancelledError('ingestion'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(settleWith: (value: T) => void) =>
        (value: T): void => {
          signal?.removeEventListener('abort', onAbort);
          settleWith(value);
        };
      this.#jobs.set(id, { path, resolve: settle(resolve), reject: settle(reject) });
      const worker = this.#ensureWorker();
      worker.ref();
      // A buffer that is a view into a larger one (Node's pool for small files) is copied rather than transferred.
      const owned = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
      worker.postMessage({ id, path, raw: owned, chunking } satisfies PrepareRequest, [owned.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fail('closed');
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker(this.#entry);
    worker.on('message', (reply: PrepareReply) => {
      const job = this.#jobs.get(reply.id);
      if (!job) return;
      this.#jobs.delete(reply.id);
      this.#idle();
      if (reply.ok) job.resolve(reply.source);
      else job.reject(new AppError(reply.error.code, reply.error.message));
    });
    const died = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#fail(why);
    };
    worker.on('error', (error) => died(`failed (${error.message})`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  /** Lets the process exit while no file is being parsed. */
  #idle(): void {
    if (this.#jobs.size === 0) this.#worker?.unref();
  }

  #fail(why: string): void {
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const job of jobs) {
      job.reject(
        new AppError(
          'KNOWLEDGE_WORKER_FAILED',
          `parsing ${job.path}: expected the parse worker to answer, found it ${why}`,
        ),
      );
    }
  }
}
