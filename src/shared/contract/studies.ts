export interface StudyQuery {
  text?: string;
  patient?: string;
  modality?: string;
  dateFrom?: string;
  dateTo?: string;
  limit?: number;
}

export interface StudySummary {
  studyInstanceUid: string;
  patientName: string;
  patientId: string;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  description: string;
  modalities: string[];
  seriesCount: number;
  instanceCount: number;
  /** 'dicom' for DICOM studies, 'image' for plain PNG/JPEG studies. */
  kind: 'dicom' | 'image';
}

export interface SeriesSummary {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string;
  seriesNumber: number | null;
  description: string;
  instanceCount: number;
  frameCount: number;
  /** Problems found while ordering the series (duplicate positions, gaps). */
  warnings: string[];
  isReport: boolean;
}

export interface InstanceSummary {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  instanceNumber: number | null;
  rows: number | null;
  columns: number | null;
  frames: number;
  transferSyntaxUid: string;
  sopClassUid: string;
  /** Position along the series normal, when known (used for ordering). */
  sliceLocation: number | null;
  /** Why this instance cannot be displayed, when it cannot. */
  undisplayableReason: string | null;
}

export interface FrameRequest {
  sopInstanceUid: string;
  frame: number;
}

/**
 * One frame as numbers for the viewer, after the modality LUT (rescale) — the renderer applies window/level.
 * Grayscale frames carry one value per pixel; colour frames carry interleaved RGB bytes.
 */
export interface FramePixels {
  sopInstanceUid: string;
  frame: number;
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  /** Grayscale: Float32Array of modality values; colour: Uint8Array RGB interleaved. */
  pixels: Float32Array | Uint8Array;
  minValue: number;
  maxValue: number;
  /** Window from the file (VOI LUT), else a window spanning the data. */
  defaultWindow: { center: number; width: number };
  invert: boolean;
  pixelSpacing: [number, number] | null;
}

export interface ImportRequest {
  paths: string[];
}

export interface ImportProgressEvent {
  runId: string;
  file: string;
  filesDone: number;
  filesTotal: number;
  imported: number;
  skipped: number;
  /** Set when this file was not imported, with the reason. */
  error: { code: string; message: string } | null;
}

export interface ImportSummary {
  filesSeen: number;
  imported: number;
  alreadyPresent: number;
  failed: { file: string; code: string; message: string }[];
  /** Files read but deliberately not imported as instances (a DICOMDIR: its listed files are imported instead). */
  skipped: { file: string; code: string; message: string }[];
  studies: string[];
}

export interface ModelImageRequest {
  sopInstanceUid: string;
  frame: number;
  /** Null = the file's window (else one spanning the data); ignored for colour images. */
  window: { center: number; width: number } | null;
  /** Longest side of the PNG in pixels (never enlarged). Defaults to the service's cap, 512. */
  maxSize?: number;
}

/** The exact PNG bytes given to the model (the audit records them with their sha256). */
export interface ModelImage {
  png: Uint8Array;
  sha256: string;
  width: number;
  height: number;
  window: { center: number; width: number } | null;
}

/** A structured report (SR) as readable text. */
export interface StudyReport {
  sopInstanceUid: string;
  /** The document title, then the content tree as indented "Concept: value" lines. */
  text: string;
}
