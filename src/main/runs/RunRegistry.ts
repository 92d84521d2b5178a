import { randomUUID } from 'node:crypto';
import type { RunId, RunOutcome } from '../../shared/contract';
import { CancelledError, toErrorPayload } from '../errors/AppError';
import type { EventBus } from '../ipc/EventBus';

export interface RunContext {
  runId: RunId;
  signal: AbortSignal;
}

/**
 * Starts streaming operations and keeps one AbortController per run id, so that `runs.cancel` can stop any of them.
 * Each run ends with exactly one `runs.finished` event.
 */
export class RunRegistry {
  readonly #controllers = new Map<RunId, AbortController>();
  readonly #done = new Map<RunId, Promise<RunOutcome>>();

  constructor(private readonly bus: EventBus) {}

  start(kind: string, work: (run: RunContext) => Promise<void>, runId: RunId = randomUUID()): RunId {
    const controller = new AbortController();
    this.#controllers.set(runId, controller);
    const finished = (async (): Promise<RunOutcome> => {
      try {
        await work({ runId, signal: controller.signal });
        return controller.signal.aborted ? { status: 'cancelled' } : { status: 'completed' };
      } catch (error) {
        if (controller.signal.aborted || error instanceof CancelledError) return { status: 'cancelled' };
        return { status: 'failed', error: toErrorPayload(error) };
      }
    })().then((outcome) => {
      this.#controllers.delete(runId);
      this.#done.delete(runId);
      this.bus.emit('runs.finished', { runId, kind, outcome });
      return outcome;
    });
    this.#done.set(runId, finished);
    return runId;
  }

  cancel(runId: RunId): boolean {
    const controller = this.#controllers.get(runId);
    if (!controller) return false;
    controller.abort(new CancelledError(`run ${runId}`));
    return true;
  }

  /** Resolves when the run has ended (for tests and for orderly shutdown). */
  async waitFor(runId: RunId): Promise<RunOutcome | undefined> {
    return this.#done.get(runId);
  }

  get active(): RunId[] {
    return [...this.#controllers.keys()];
  }

  cancelAll(): void {
    for (const id of this.#controllers.keys()) this.cancel(id);
  }
}
