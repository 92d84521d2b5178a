import type { Api, RunOutcome } from '../../../shared/contract';

/**
 * Remembers how recent runs ended, from `runs.finished`, so a caller can await a run's outcome even when the run ends
 * before the reply carrying its id arrives (fast imports, instant failures).
 */
export class RunTracker {
  readonly #outcomes = new Map<string, RunOutcome>();
  readonly #waiters = new Map<string, ((outcome: RunOutcome) => void)[]>();
  readonly #limit: number;

  constructor(api: Pick<Api, 'runs'>, limit = 200) {
    this.#limit = limit;
    api.runs.onFinished(({ runId, outcome }) => this.record(runId, outcome));
  }

  record(runId: string, outcome: RunOutcome): void {
    this.#outcomes.set(runId, outcome);
    if (this.#outcomes.size > this.#limit) this.#outcomes.delete(this.#outcomes.keys().next().value!);
    for (const resolve of this.#waiters.get(runId) ?? []) resolve(outcome);
    this.#waiters.delete(runId);
  }

  wait(runId: string): Promise<RunOutcome> {
    const known = this.#outcomes.get(runId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.#waiters.get(runId) ?? [];
      list.push(resolve);
      this.#waiters.set(runId, list);
    });
  }
}

let tracker: RunTracker | null = null;

/** The app-wide tracker; created at startup (main.tsx) so no `runs.finished` is missed. */
export function runTracker(): RunTracker {
  tracker ??= new RunTracker(window.api);
  return tracker;
}
