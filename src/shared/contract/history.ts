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
}

export interface AttemptRecord {
  attempt: number;
  transcript: string;
  queries: { round: number; query: string; hits: SearchHit[] }[];
  answer: string | null;
  confidence: ConfidenceReport;
  kept: boolean;
}

export interface RunRecord extends RunSummary {
  choices: string[] | null;
  sopInstanceUid: string | null;
  frame: number | null;
  imageSha256: string | null;
  window: { center: number; width: number } | null;
  attempts: AttemptRecord[];
  similarCase: CaseSearchHit | null;
  settings: Settings;
  models: { reasoner: string | null; mmproj: string | null; embedding: string | null; knowledgeBase: string | null };
  seed: number;
  timings: { totalMs: number; modelMs: number; retrievalMs: number };
  endReason: string;
}

export interface HistoryQuery {
  studyInstanceUid?: string;
  limit?: number;
}

export interface ExportedReport {
  fileName: string;
  html: string;
}
