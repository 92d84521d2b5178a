import type { ConfidenceReport, EvalRunnerIdentity, ReasoningMode, Settings } from '../../../shared/contract';
import type { EvalItem } from '../datasets/EvalItem';

/** What the harness asks of the reasoning loop for one item in one mode. */
export interface ItemRunInput {
  item: EvalItem;
  mode: ReasoningMode;
  seed: number;
  /** The settings frozen when the evaluation was created (the same for every mode and on resume). */
  settings: Settings;
  signal: AbortSignal;
}

export interface ItemQuery {
  round: number;
  query: string;
  /** Knowledge source title of each passage returned, in rank order. */
  hitSources: string[];
  hitIds: number[];
}

export interface ItemAttempt {
  answer: string | null;
  confidence: ConfidenceReport;
}

/** What the loop reports back; everything the metrics and the report need, nothing of the transcript. */
export interface ItemRunOutcome {
  /** The kept answer (after CDIR when it ran). */
  answer: string | null;
  confidence: ConfidenceReport;
  /** Every attempt in order: [initial] or [initial, after image re-retrieval]. */
  attempts: ItemAttempt[];
  cdirTriggered: boolean;
  /** The similar case CDIR used, when one was found. */
  similarCase: { caseId: number; title: string; score: number } | null;
  queries: ItemQuery[];
  rounds: number;
  endReason: string;
  timings: { totalMs: number; modelMs: number; retrievalMs: number };
  /** The audit record of this run, when the loop wrote one. */
  auditRunId: string | null;
}

/**
 * The narrow port the harness drives: the Med-RwR loop (src/main/reasoning) behind an adapter, or the scripted
 * runner for dry runs and tests. Throwing CancelledError (or rejecting after `signal` aborts) stops the evaluation;
 * any other error is recorded as a failed result and the evaluation goes on.
 */
export interface EvalItemRunner {
  /** What answers: model files with their hashes, the knowledge base. Recorded in the report; checked on resume. */
  describe(settings: Settings): Promise<EvalRunnerIdentity>;
  runItem(input: ItemRunInput): Promise<ItemRunOutcome>;
}
