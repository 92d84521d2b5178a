import type { ErrorPayload } from './common';
import type { SearchHit, CaseSearchHit } from './knowledge';
import type { ReasoningMode } from './settings';

/** Where the image the model looks at comes from. */
export type ImageRef =
  | { kind: 'instance'; sopInstanceUid: string; frame: number; window: { center: number; width: number } | null }
  | { kind: 'file'; path: string };

export interface AskRequest {
  question: string;
  /** Options for a multiple-choice or yes/no question. */
  choices?: string[];
  image: ImageRef | null;
  studyInstanceUid?: string;
  /** Overrides the configured mode for this run. */
  mode?: ReasoningMode;
}

/** `waiting-for-knowledge`: the bundled knowledge base is still being built (first start); the run starts after. */
export type ReasoningPhase =
  | 'preparing'
  | 'waiting-for-knowledge'
  | 'thinking'
  | 'retrieving'
  | 'answering'
  | 'cdir'
  | 'finished';

/**
 * Whether runs and evaluations can start on a complete knowledge base. On a fresh data directory the bundled MedQuAD
 * knowledge base is built in a background run (`knowledge.ingestProgress` events tagged with `runId`); reasoning runs
 * and model evaluations started meanwhile wait for it, so none is recorded against a half-built knowledge base.
 */
export interface KnowledgeReadiness {
  state: 'building' | 'ready';
  /** The bundled install run, while it builds (and after, for reference); null when none ran. */
  runId: string | null;
  filesDone: number;
  /** Files to install; null until the first file is done. */
  filesTotal: number | null;
  /** How the install failed, when it did (runs then go on with the knowledge base as it is). */
  error: ErrorPayload | null;
}

/** Which protocol segment a token belongs to, so the UI can style it without parsing. */
export type SegmentKind = 'think' | 'query' | 'answer' | 'other';

export interface ConfidenceReport {
  /** Probability of the first answer token under the model's full softmax (the CDIR trigger by default). */
  firstToken: number | null;
  /** Normalised probability mass over the options at the answer position, for closed questions. */
  optionMass: number | null;
  /** The post-sampling value the sampler reported (1 under greedy); kept for the audit. */
  sampled: number | null;
  /** The value compared against the threshold. */
  used: number | null;
  source: 'first-token' | 'option-mass';
}

export type ReasoningEvent =
  | { runId: string; type: 'phase'; phase: ReasoningPhase; attempt: number }
  | { runId: string; type: 'token'; segment: SegmentKind; text: string; attempt: number }
  | { runId: string; type: 'query'; round: number; query: string; attempt: number }
  | {
      runId: string;
      type: 'hits';
      round: number;
      query: string;
      hits: SearchHit[];
      lexicalOnly: boolean;
      attempt: number;
      /** Why nothing was searched or found (empty query, round limit, direct mode, no match); absent when served. */
      reason?: string;
    }
  | {
      runId: string;
      type: 'cdir';
      /** The attempt whose answer confidence was judged (1); when `triggered`, the model re-reasons as attempt + 1. */
      attempt: number;
      /** The confidence compared with the threshold; 0 when none could be measured (no answer). */
      confidence: number;
      threshold: number;
      /** Whether the model re-reasons with the similar case (false: not needed, or no case/image to use). */
      triggered?: boolean;
      /** `thumbnailRef` is "case-image:<imageId>", resolvable through `knowledge.caseImage`. */
      similarCase: (CaseSearchHit & { thumbnailRef: string }) | null;
      reason: string;
    }
  | {
      runId: string;
      type: 'answer';
      answer: string;
      confidence: ConfidenceReport;
      attempt: number;
      /** Provisional: false when CDIR re-reasons next; `done.result.keptAttempt` is final. */
      kept: boolean;
    }
  | { runId: string; type: 'done'; result: ReasoningResult }
  | { runId: string; type: 'cancelled' }
  | { runId: string; type: 'failed'; error: ErrorPayload };

export interface ReasoningResult {
  runId: string;
  answer: string | null;
  confidence: ConfidenceReport;
  mode: ReasoningMode;
  /** Retrieval rounds served (knowledge searches), over all attempts. */
  rounds: number;
  cdirTriggered: boolean;
  /** 1 = the first answer, 2 = the CDIR answer; null when no attempt answered. */
  keptAttempt?: number | null;
  /** Attempts made: 1, or 2 when CDIR re-reasoned. */
  attempts?: number;
  /** How the run ended: a normal answer or a defined fallback state. */
  endReason: string;
  timings: { totalMs: number; modelMs: number; retrievalMs: number };
}
