import type { ReasoningMode } from './settings';

export interface EvalRequest {
  dataset: { format: 'vqa-rad' | 'slake' | 'jsonl'; path: string; imagesDir?: string };
  modes: ReasoningMode[];
  limit?: number;
  sample?: { size: number; seed: number };
  /** Resume the evaluation with this id instead of starting a new one. */
  resumeId?: string;
}

export interface EvalProgressEvent {
  runId: string;
  evalId: string;
  itemsDone: number;
  itemsTotal: number;
  mode: ReasoningMode;
  etaMs: number | null;
}

export interface EvalSummary {
  evalId: string;
  createdAt: string;
  dataset: string;
  modes: ReasoningMode[];
  items: number;
  status: 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';
  accuracy: Partial<Record<ReasoningMode, number>>;
}
