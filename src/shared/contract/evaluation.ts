import type { ErrorPayload } from './common';
import type { ConfidenceReport } from './reasoning';
import type { ReasoningMode, ReasoningSettings, RetrievalSettings, Settings } from './settings';

/** Dataset layouts the harness reads. */
export type EvalDatasetFormat = 'vqa-rad' | 'slake' | 'jsonl';

export interface EvalDatasetRef {
  format: EvalDatasetFormat;
  /** The dataset file: MEVF json (VQA-RAD), SLAKE json, or JSONL `{id, image|images, question, choices?, answer}`. */
  path: string;
  /**
   * Folder that image names are relative to. Defaults to `images/` beside the file for VQA-RAD, `imgs/` beside the
   * file for SLAKE, and the file's own folder for JSONL.
   */
  imagesDir?: string;
  /** SLAKE only: question language to keep. Defaults to 'en'. */
  language?: string;
}

export interface EvalRequest {
  dataset: EvalDatasetRef;
  /** Modes compared over the same items, with the same model and seed (any non-empty subset). */
  modes: ReasoningMode[];
  /** Keep the first N items (after sampling, when both are given). */
  limit?: number;
  /** A seeded random sample of `size` items, kept in dataset order. */
  sample?: { size: number; seed: number };
  /** Seed passed to every item in every mode. Defaults to settings.reasoning.seed. */
  seed?: number;
  /**
   * Reasoning and retrieval settings for this evaluation only (e.g. another CDIR threshold, grammar-constrained
   * decoding for a small model); validated like a settings update, frozen with the evaluation, never saved as the
   * app's settings. Defaults to none (the current settings).
   */
  settings?: {
    reasoning?: Partial<Omit<ReasoningSettings, 'mode' | 'seed'>>;
    retrieval?: Partial<RetrievalSettings>;
  };
  /**
   * Scripted answers instead of the model: checks the dataset, the images and the report pipeline without loading a
   * model. The report says so on every page. Defaults to false.
   */
  dryRun?: boolean;
  /** Free text shown in the list and the report (e.g. "pilot site A, week 3"). */
  label?: string;
}

export type EvalStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

/**
 * Progress of an evaluation run. A result is one (item, mode) pair; counts include results recorded before a resume.
 */
export interface EvalProgressEvent {
  runId: string;
  evalId: string;
  /** (item, mode) results recorded so far. */
  itemsDone: number;
  /** (item, mode) results in the whole evaluation: items × modes. */
  itemsTotal: number;
  /** The mode of the result just recorded. */
  mode: ReasoningMode;
  /** The dataset id of the item just recorded. */
  itemId: string;
  /** Whether that result was scored correct; null when it failed to run. */
  correct: boolean | null;
  /** Results that failed to run so far (they are retried on resume). */
  failed: number;
  /** Estimated time to finish, from this session's mean time per result; null before the first result. */
  etaMs: number | null;
}

export interface EvalSummary {
  evalId: string;
  createdAt: string;
  finishedAt: string | null;
  label: string | null;
  /** Display name of the dataset, e.g. "VQA-RAD testset.json". */
  dataset: string;
  datasetFormat: EvalDatasetFormat;
  datasetPath: string;
  modes: ReasoningMode[];
  /** Items selected for the evaluation. */
  items: number;
  resultsDone: number;
  resultsTotal: number;
  failed: number;
  status: EvalStatus;
  dryRun: boolean;
  /** Overall accuracy per mode (closed accuracy and open exact match pooled), over the results recorded so far. */
  accuracy: Partial<Record<ReasoningMode, number>>;
  /** The counts behind `accuracy`. */
  correct: Partial<Record<ReasoningMode, { correct: number; total: number }>>;
  /** The run id while a run of this evaluation is active in this process, for `runs.cancel`. */
  activeRunId: string | null;
  error: ErrorPayload | null;
}

/** A count out of a total, with its rate and Wilson 95% interval (null when the total is 0). */
export interface Proportion {
  count: number;
  total: number;
  rate: number | null;
  ci95: [number, number] | null;
}

export interface CalibrationBin {
  /** The bin holds confidences in (lower, upper]; the first bin also holds exactly 0. */
  lower: number;
  upper: number;
  count: number;
  correct: number;
  meanConfidence: number | null;
  accuracy: number | null;
}

export interface CalibrationReport {
  /** Results with a confidence (those without one are not in any bin). */
  items: number;
  /** Results that had no confidence value. */
  missing: number;
  bins: CalibrationBin[];
  /** Expected calibration error: Σ (n_b / n) · |acc_b − conf_b| over non-empty bins. */
  ece: number | null;
  /** Maximum calibration error over non-empty bins. */
  mce: number | null;
  /** Mean squared error of the confidence against correctness. */
  brier: number | null;
  /** How the bins were formed, in words. */
  binning: string;
  confidenceSource: 'first-token' | 'option-mass' | 'used';
}

export interface LatencySummary {
  items: number;
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
  minMs: number | null;
  maxMs: number | null;
  totalMs: number;
}

export interface RetrievalStats {
  /** Results that issued at least one query. */
  itemsWithQueries: Proportion;
  queriesTotal: number;
  queriesPerItem: number | null;
  roundsMean: number | null;
  /** How many results used 0, 1, 2, … retrieval rounds. */
  roundsHistogram: { rounds: number; items: number }[];
  hitsTotal: number;
  /** Hits per knowledge source title, most frequent first. */
  hitSources: { source: string; hits: number }[];
}

export interface CdirStats {
  /** Results where low confidence triggered image re-retrieval. */
  triggered: Proportion;
  /** Of the triggered: a similar case was found and a second attempt ran. */
  reattempted: number;
  /** First attempt wrong, kept answer right. */
  wrongToRight: number;
  /** First attempt right, kept answer wrong. */
  rightToWrong: number;
  unchangedRight: number;
  unchangedWrong: number;
  /** The kept answer's text differs from the first attempt's. */
  answerChanged: number;
}

export interface ModeMetrics {
  mode: ReasoningMode;
  /** Results recorded for this mode (run or failed). */
  results: number;
  /** Results that failed to run; they count as wrong in every accuracy below. */
  failed: number;
  /** Closed accuracy + open exact match, pooled. */
  overall: Proportion;
  /** Closed-ended accuracy (yes/no and choices). */
  closed: Proportion;
  closedYesNo: Proportion;
  closedChoice: Proportion;
  /** Open-ended exact match after normalisation. */
  openExact: Proportion;
  /** Open-ended token recall (share of the reference's tokens found in the answer), averaged. */
  openRecall: { mean: number | null; items: number; fullRecall: number };
  /** Accuracy per question type (VQA-RAD: PRES, MODALITY, POS, …; '—' when the dataset has none). */
  byQuestionType: { questionType: string; accuracy: Proportion }[];
  retrieval: RetrievalStats;
  cdir: CdirStats;
  /** Calibration of the confidence each run compared with the CDIR threshold (its configured source). */
  calibration: CalibrationReport;
  /**
   * The same results binned by each recorded confidence: the first answer token's probability (all questions) and the
   * normalised option mass (closed questions with options only).
   */
  calibrationBySource: CalibrationReport[];
  latency: LatencySummary;
}

/** McNemar's test on the items both modes answered; b and c are the discordant pairs. */
export interface PairedComparison {
  modeA: ReasoningMode;
  modeB: ReasoningMode;
  pairs: number;
  bothRight: number;
  /** A right, B wrong. */
  onlyA: number;
  /** A wrong, B right. */
  onlyB: number;
  bothWrong: number;
  /** 'exact-binomial' when b + c < 25, else chi-square with continuity correction. */
  method: 'exact-binomial' | 'chi-square-cc' | 'none';
  statistic: number | null;
  pValue: number | null;
}

export interface EvalMetrics {
  modes: ModeMetrics[];
  paired: PairedComparison[];
  /** How answers were scored, in words (normalisation, which papers' metrics). */
  scoring: string[];
}

/** A dataset row that was not used, and why. */
export interface DatasetProblem {
  /** 1-based row (JSONL line or JSON array position). */
  row: number;
  itemId: string | null;
  code: string;
  message: string;
}

export interface EvalItemResult {
  itemIndex: number;
  itemId: string;
  mode: ReasoningMode;
  question: string;
  reference: string;
  answerType: 'closed' | 'open';
  questionType: string | null;
  status: 'ok' | 'failed';
  answer: string | null;
  correct: boolean | null;
  /** Open questions: share of the reference's tokens found in the answer. */
  recall: number | null;
  confidence: ConfidenceReport | null;
  cdirTriggered: boolean;
  /** The first attempt's answer when CDIR ran a second one. */
  firstAnswer: string | null;
  queries: string[];
  rounds: number;
  latencyMs: number | null;
  error: ErrorPayload | null;
  /** The reasoning run's audit record (open it with `history.get`); null for dry runs and failed results. */
  auditRunId: string | null;
}

export interface EvalDetail {
  summary: EvalSummary;
  request: EvalRequest;
  datasetSha256: string;
  problems: DatasetProblem[];
  settings: Settings;
  /** What answered: model and knowledge-base identities, or the scripted runner for a dry run. */
  runner: EvalRunnerIdentity;
  metrics: EvalMetrics;
}

export interface EvalRunnerIdentity {
  kind: 'model' | 'scripted';
  description: string;
  models: { role: string; name: string; sha256: string; sizeBytes: number }[];
  knowledgeBase: string | null;
}

export interface EvalResultsQuery {
  evalId: string;
  mode?: ReasoningMode;
  offset?: number;
  /** Defaults to 200. */
  limit?: number;
}

export interface EvalExport {
  fileName: string;
  mimeType: string;
  text: string;
}
