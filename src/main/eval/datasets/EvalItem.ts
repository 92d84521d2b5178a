import type { DatasetProblem, EvalDatasetFormat } from '../../../shared/contract';

export type EvalImageFormat = 'png' | 'jpeg' | 'dicom';

export interface EvalImage {
  /** Absolute path of the image file. */
  path: string;
  format: EvalImageFormat;
  /** sha256 of the file's bytes when the dataset was loaded; a resume refuses an image whose bytes changed. */
  sha256: string;
  sizeBytes: number;
}

/** One question about one or more images, as every loader produces it. */
export interface EvalItem {
  /** Stable id within the dataset (VQA-RAD / SLAKE qid, JSONL id). */
  id: string;
  /** 1-based row in the dataset file. */
  row: number;
  question: string;
  /** The reference answer as written in the dataset. */
  answer: string;
  answerType: 'closed' | 'open';
  /** Options offered to the model, or null for a free answer. */
  choices: string[] | null;
  /** Where the options come from: the dataset, or yes/no for a closed question whose reference is yes or no. */
  choicesSource: 'dataset' | 'yes-no' | null;
  /** VQA-RAD question_type (PRES, MODALITY, …), SLAKE content_type, or JSONL question_type. */
  questionType: string | null;
  images: EvalImage[];
  /** Other descriptive fields kept for the report (organ, modality, phrase type). */
  meta: Record<string, string>;
}

export interface LoadedDataset {
  format: EvalDatasetFormat;
  path: string;
  imagesDir: string;
  /** sha256 of the dataset file. */
  sha256: string;
  /** Rows seen in the file (valid or not). */
  rows: number;
  items: EvalItem[];
  problems: DatasetProblem[];
  /** Rows left out on purpose, not as problems (e.g. SLAKE questions in another language). */
  skipped: { reason: string; rows: number }[];
}
