import type { IngestProgressEvent, KnowledgeReadiness, RunOutcome } from '../../shared/contract';
import { CancelledError } from '../errors/AppError';

/**
 * Holds reasoning runs and model evaluations while the bundled knowledge base is being built on first start, so that
 * none of them searches — and records the fingerprint of — a half-built knowledge base. Ready from the start when
 * nothing is being built.
 */
export class KnowledgeGate {
  #state: KnowledgeReadiness = { state: 'ready', runId: null, filesDone: 0, filesTotal: null, error: null };
  #ready: Promise<void> = Promise.resolve();

  /** Holds runs until `finished` settles: the outcome of the run `runId` that builds the knowledge base. */
  follow(runId: string, finished: Promise<RunOutcome | undefined>): void {
    this.#state = { state: 'building', runId, filesDone: 0, filesTotal: null, error: null };
    this.#ready = finished.then(
      (outcome) => this.#open(outcome?.status === 'failed' ? outcome.error : null),
      (error: unknown) => this.#open({ code: 'INTERNAL', message: String(error) }),
    );
  }

  /** Counts files from the install's `knowledge.ingestProgress` events (other runs' events are ignored). */
  progress(event: IngestProgressEvent): void {
    if (this.#state.state !== 'building' || event.runId !== this.#state.runId) return;
    this.#state = { ...this.#state, filesDone: event.filesDone, filesTotal: event.filesTotal };
  }

  get building(): boolean {
    return this.#state.state === 'building';
  }

  snapshot(): KnowledgeReadiness {
    return { ...this.#state };
  }

  /** Resolves when the knowledge base is complete (at once when it is); rejects with CancelledError on `signal`. */
  wait(signal?: AbortSignal): Promise<void> {
    if (!this.building) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new CancelledError('waiting for the knowledge base'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new CancelledError('waiting for the knowledge base'));
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.#ready.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  #open(error: KnowledgeReadiness['error']): void {
    this.#state = { ...this.#state, state: 'ready', error };
  }
}
