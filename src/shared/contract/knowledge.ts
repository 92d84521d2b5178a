import type { RetrievalMode } from './settings';

export interface PassageProvenance {
  sourceId: number;
  sourceTitle: string;
  sourceFile: string;
  license: string | null;
  /** Heading path inside the source, e.g. ["Glaucoma", "Symptoms"]. */
  section: string[];
  page: number | null;
  charStart: number;
  charEnd: number;
}

export interface SearchHit {
  passageId: number;
  rank: number;
  score: number;
  /** Scores per retriever before fusion, when available. */
  lexicalScore: number | null;
  vectorScore: number | null;
  title: string;
  snippet: string;
  provenance: PassageProvenance;
}

export interface SearchRequest {
  query: string;
  k?: number;
  mode?: RetrievalMode;
}

export interface SearchResponse {
  query: string;
  /** The mode actually used (vector/hybrid fall back to lexical without an embedding model). */
  mode: RetrievalMode;
  lexicalOnly: boolean;
  lexicalOnlyReason: string | null;
  hits: SearchHit[];
  tookMs: number;
}

export interface Passage {
  id: number;
  text: string;
  provenance: PassageProvenance;
}

export interface KnowledgeSource {
  id: number;
  title: string;
  file: string;
  format: string;
  license: string | null;
  passages: number;
  ingestedAt: string;
}

export interface KnowledgeStats {
  sources: KnowledgeSource[];
  passages: number;
  vectors: number;
  embeddingModel: { name: string; sha256: string; dims: number } | null;
  cases: number;
  caseImages: number;
}

export interface IngestRequest {
  paths: string[];
}

export interface IngestProgressEvent {
  runId: string;
  file: string;
  filesDone: number;
  filesTotal: number;
  passagesAdded: number;
  /** Set when this file failed; the batch goes on. */
  error: { code: string; message: string } | null;
}

export interface CaseSearchHit {
  caseId: number;
  imageId: number;
  score: number;
  title: string;
  diagnosis: string | null;
  modality: string | null;
  plane: string | null;
  consultation: string;
}

export interface CasesIngestRequest {
  folder: string;
}
