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

export type ReasoningPhase = 'preparing' | 'thinking' | 'retrieving' | 'answering' | 'cdir' | 'finished';

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
  | { runId: string; type: 'hits'; round: number; query: string; hits: SearchHit[]; lexicalOnly: boolean; attempt: number }
  | {
      runId: string;
      type: 'cdir';
      confidence: number;
      threshold: number;
      similarCase: (CaseSearchHit & { thumbnailRef: string }) | null;
      reason: string;
    }
  | { runId: string; type: 'answer'; answer: string; confidence: ConfidenceReport; attempt: number; kept: boolean }
  | { runId: string; type: 'done'; result: ReasoningResult }
  | { runId: string; type: 'cancelled' }
  | { runId: string; type: 'failed'; error: ErrorPayload };

export interface ReasoningResult {
  runId: string;
  answer: string | null;
  confidence: ConfidenceReport;
  mode: ReasoningMode;
  rounds: number;
  cdirTriggered: boolean;
  /** How the run ended: a normal answer or a defined fallback state. */
  endReason: string;
  timings: { totalMs: number; modelMs: number; retrievalMs: number };
}
