/**
 * What the reasoning loop consumes from the knowledge and studies services, kept narrow so the loop can be tested
 * with doubles and wired to the real services in compose.ts through small adapters.
 */
import type { CaseSearchHit, ImageRef, RetrievalMode, SearchHit } from '../../shared/contract';
import type { ModelImageInput } from '../engine/ports';

export interface RetrievedPassage {
  hit: SearchHit;
  /** The passage's full text, as the model will read it (escaped by the loop). */
  text: string;
}

export interface PassageSearch {
  hits: RetrievedPassage[];
  /** True when vector search was unavailable and the search fell back to lexical. */
  lexicalOnly: boolean;
}

/** Searches the text knowledge base (Med-RwR's `<query>` → `<retrieve>`). */
export interface PassageRetriever {
  search(query: string, options: { k: number; mode: RetrievalMode; signal?: AbortSignal }): Promise<PassageSearch>;
}

export interface SimilarCase {
  hit: CaseSearchHit;
  /** The case image as the model receives it. */
  image: ModelImageInput;
  /** The case image's bytes (for the audit record and its hash). */
  bytes: Uint8Array;
  mime: ImageMime;
}

/** Searches the image-case corpus with the study image (CDIR). Best case first. */
export interface CaseRetriever {
  searchByImage(image: StudyImage, options: { k: number; signal?: AbortSignal }): Promise<SimilarCase[]>;
}

export type ImageMime = 'image/png' | 'image/jpeg';

/** The exact image the model looks at, with where it came from. */
export interface StudyImage {
  bytes: Uint8Array;
  mime: ImageMime;
  sha256: string;
  /** What is passed to the reasoner (PNG bytes, or the file for JPEG). */
  modelInput: ModelImageInput;
  studyInstanceUid: string | null;
  sopInstanceUid: string | null;
  frame: number | null;
  /** The window used to render a DICOM frame; null for plain images. */
  window: { center: number; width: number } | null;
  /** The file the image was read from, when it was one. */
  sourcePath: string | null;
}

/** Turns the request's image reference into the bytes the model will see. */
export interface ImageSource {
  load(ref: ImageRef, options?: { signal?: AbortSignal }): Promise<StudyImage>;
}

/** Hashes of what retrieval depends on, for the audit record (null when unknown). */
export interface KnowledgeFingerprint {
  embedding: string | null;
  knowledgeBase: string | null;
}
