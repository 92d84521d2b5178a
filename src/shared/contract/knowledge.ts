import type { RetrievalMode } from './settings';

/** Where a passage comes from, precisely enough to cite it. */
export interface PassageProvenance {
  sourceId: number;
  sourceTitle: string;
  sourceFile: string;
  license: string | null;
  attribution: string | null;
  /** The record inside a multi-document source (a JSONL id, a MedQuAD question id); null for single documents. */
  documentId: string | null;
  /** The record's web page, when the source names one (MedQuAD answers link their NIH page). */
  url: string | null;
  /** Heading path inside the source, e.g. ["Glaucoma", "Symptoms"]. */
  section: string[];
  /** 1-based page of the passage's first paragraph (PDF sources); null elsewhere. */
  page: number | null;
  /** Offsets into the record's extracted text (for .txt/.md files: into the file's text itself). */
  charStart: number;
  charEnd: number;
}

export interface SearchHit {
  passageId: number;
  rank: number;
  /** The score the hits are ordered by: bm25 (lexical), cosine similarity (vector), RRF (hybrid) or rerank. */
  score: number;
  /** Scores per retriever before fusion, when available (bm25: higher is better; cosine similarity). */
  lexicalScore: number | null;
  vectorScore: number | null;
  /** Cross-encoder relevance when a reranker reordered the hits. */
  rerankScore: number | null;
  title: string;
  /** The whole passage, as the model should read it. */
  text: string;
  /** A short excerpt for lists. */
  snippet: string;
  provenance: PassageProvenance;
}

export interface SearchRequest {
  query: string;
  /** Defaults to the retrieval setting (3, as Med-RwR). */
  k?: number;
  /** Defaults to the retrieval setting. */
  mode?: RetrievalMode;
}

export interface SearchResponse {
  query: string;
  requestedMode: RetrievalMode;
  /** The mode actually used (vector/hybrid fall back to lexical without an embedding model). */
  mode: RetrievalMode;
  lexicalOnly: boolean;
  /** Why only lexical retrieval ran (no embedding model, no vectors yet, or lexical asked for); null otherwise. */
  lexicalOnlyReason: string | null;
  /** "name (dims-d, sha256 prefix)" of the embedding model whose vectors were searched; null when none. */
  embeddingModel: string | null;
  reranked: boolean;
  hits: SearchHit[];
  tookMs: number;
}

export interface Passage {
  id: number;
  title: string;
  text: string;
  provenance: PassageProvenance;
}

export interface KnowledgeSource {
  id: number;
  title: string;
  file: string;
  format: string;
  license: string | null;
  attribution: string | null;
  /** 'bundled' for the knowledge base shipped with the app, 'user' for what the user ingested. */
  origin: 'bundled' | 'user';
  sha256: string;
  passages: number;
  ingestedAt: string;
}

export interface EmbeddingModelInfo {
  name: string;
  sha256: string;
  dims: number;
}

export interface KnowledgeStats {
  sources: KnowledgeSource[];
  passages: number;
  /** Passages with a vector from the current embedding model. */
  vectors: number;
  /** The configured embedding model; null = lexical-only retrieval. */
  embeddingModel: EmbeddingModelInfo | null;
  cases: number;
  caseImages: number;
  /** The image encoder whose vectors case search uses. */
  caseEncoder: string;
}

export interface IngestRequest {
  /** Files or folders (searched recursively for supported formats). */
  paths: string[];
  /** License recorded on every source of this request, when the files do not state one. */
  license?: string | null;
  attribution?: string | null;
}

export type IngestFileStatus = 'ingested' | 'skipped' | 'failed';

export interface IngestProgressEvent {
  runId: string;
  /** The file (text ingestion) or the case id (case ingestion, `knowledge.casesIngest`). */
  file: string;
  filesDone: number;
  filesTotal: number;
  /** Passages added by this file — images, for a case — (0 when skipped or failed). */
  passagesAdded: number;
  status: IngestFileStatus;
  /** Why the file was skipped (already ingested, unsupported format); null otherwise. */
  reason: string | null;
  /** Set when this file failed; the batch goes on. */
  error: { code: string; message: string } | null;
}

export interface EmbedProgressEvent {
  runId: string;
  done: number;
  total: number;
  model: string;
}

export interface CaseSearchHit {
  caseId: number;
  imageId: number;
  rank: number;
  /** Cosine similarity of the image descriptors (1 = identical). */
  score: number;
  title: string;
  diagnosis: string | null;
  modality: string | null;
  plane: string | null;
  caption: string | null;
  /** History, findings, diagnosis and discussion as one text, ready to show to the model. */
  consultation: string;
  /** The case image on disk (as ingested). */
  imagePath: string;
  /** The corpus the case came from, e.g. "MedPix 2.0 (test split)". */
  corpus: string;
  license: string | null;
}

export type CaseQueryImage =
  { kind: 'file'; path: string } | { kind: 'instance'; sopInstanceUid: string; frame: number };

export interface CasesIngestRequest {
  folder: string;
}
