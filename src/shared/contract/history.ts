import type { ErrorPayload } from './common';
import type { SearchHit, CaseSearchHit } from './knowledge';
import type { ConfidenceReport } from './reasoning';
import type { ReasoningMode, Settings } from './settings';

export interface RunSummary {
  runId: string;
  startedAt: string;
  question: string;
  answer: string | null;
  confidence: number | null;
  mode: ReasoningMode;
  cdirTriggered: boolean;
  status: 'completed' | 'cancelled' | 'failed';
  studyInstanceUid: string | null;
  /** The run this one replayed, when it is a replay. */
  replayOf: string | null;
}

/** What happened to one `<query>`: searched, or answered with `<retrieve> None </retrieve>` and why. */
export type QueryStatus = 'served' | 'no-hits' | 'empty' | 'round-limit' | 'retrieval-disabled' | 'unavailable';

export interface QueryRecord {
  round: number;
  query: string;
  status: QueryStatus;
  hits: SearchHit[];
  /** The passage texts as retrieved, in hit order (escaped when written into the transcript). */
  passages: string[];
  lexicalOnly: boolean;
  tookMs: number;
}

export interface ModelCallRecord {
  kind: 'start' | 'continue' | 'probe';
  /** Characters the loop appended before this call (retrieve blocks, the CDIR turn). */
  appendedChars: number;
  promptTokens: number;
  cachedTokens: number;
  generatedTokens: number;
  stoppedBy: string | null;
  ms: number;
}

export interface AttemptRecord {
  attempt: number;
  /** Everything the model read and wrote in this attempt (media as markers). */
  transcript: string;
  /** Offset in `transcript` where this attempt's reasoning begins (after the prompt, or at the CDIR turn). */
  outputStart: number;
  queries: QueryRecord[];
  answer: string | null;
  confidence: ConfidenceReport;
  kept: boolean;
  /** How this attempt ended: "answered" or a defined fallback ("no-answer:eos", "no-answer:max-tokens", …). */
  endReason: string;
  /** The first answer token, its probed probability (upper bound when outside the probe's top) and sampled one. */
  firstToken: { text: string; tokenId: number; probability: number | null; upperBound: boolean; sampled: number | null } | null;
  /** Unnormalised first-token mass per option at the answer position (closed questions). */
  optionMasses: { option: string; mass: number }[] | null;
  /** Protocol irregularities the parser or the loop met (non-canonical tags, a second answer, …). */
  anomalies: { kind: string; detail: string }[];
  modelCalls: ModelCallRecord[];
}

export interface CdirRecord {
  decision: 'disabled' | 'not-needed' | 're-reasoned' | 'no-case' | 'no-image' | 'unavailable';
  confidence: number | null;
  threshold: number;
  reason: string;
  caseImageSha256: string | null;
  /** Where the re-retrieval turn went: after the last retrieval (as Med-RwR) or after the first answer. */
  placement: 'rewound' | 'appended' | null;
}

export interface RunRecord extends RunSummary {
  finishedAt: string;
  choices: string[] | null;
  sopInstanceUid: string | null;
  frame: number | null;
  imageSha256: string | null;
  imageMime: string | null;
  window: { center: number; width: number } | null;
  attempts: AttemptRecord[];
  keptAttempt: number | null;
  similarCase: CaseSearchHit | null;
  cdir: CdirRecord;
  settings: Settings;
  models: { reasoner: string | null; mmproj: string | null; embedding: string | null; knowledgeBase: string | null };
  modelNames: { reasoner: string | null; mmproj: string | null };
  seed: number;
  timings: { totalMs: number; modelMs: number; retrievalMs: number };
  endReason: string;
  error: ErrorPayload | null;
  /** For a replay: whether it reproduced the original run's transcripts exactly, attempt by attempt. */
  replayMatch: ReplayMatch | null;
}

export interface ReplayMatch {
  identical: boolean;
  attempts: { attempt: number; identical: boolean; firstDifference: number | null }[];
}

export interface HistoryQuery {
  studyInstanceUid?: string;
  limit?: number;
}

export interface ExportedReport {
  fileName: string;
  html: string;
}
