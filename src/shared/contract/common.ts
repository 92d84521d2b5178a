/** What crosses a process boundary when something fails: a stable code and a human message. */
export interface ErrorPayload {
  code: string;
  message: string;
}

/** Identifies one streaming operation (a reasoning run, an ingestion, an import, an evaluation). */
export type RunId = string;

/** The reply of every invoke that starts a streaming operation; progress arrives as events tagged with it. */
export interface RunStarted {
  runId: RunId;
}

/** How a streaming operation ended; every run emits exactly one of these. */
export type RunOutcome =
  | { status: 'completed' }
  | { status: 'cancelled' }
  | { status: 'failed'; error: ErrorPayload };
