import { normalizeSpace } from '../text/tokens';

/** The formats ingestion understands; the name is recorded on the source. */
export type SourceFormat = 'text' | 'markdown' | 'jsonl' | 'medquad-xml' | 'cnxml' | 'pdf';

/** One paragraph of extracted text; offsets point into its document's text. */
export interface ParsedParagraph {
  /** Whitespace-normalized (normalizeSpace): single spaces, no line breaks, trimmed. Chunking and hashing rely on it. */
  text: string;
  start: number;
  end: number;
  /** Headings above the paragraph, outermost first. */
  headingPath: string[];
  /** 1-based page (PDF); null elsewhere. */
  page: number | null;
}

/** A record inside a source: the whole file for most formats, one line of JSONL, one QA pair of MedQuAD. */
export interface ParsedDocument {
  id: string | null;
  title: string;
  url: string | null;
  paragraphs: ParsedParagraph[];
}

export interface ParsedSource {
  title: string;
  format: SourceFormat;
  /** A license or attribution the file itself states (JSONL meta line, MedQuAD); null when it states none. */
  license: string | null;
  attribution: string | null;
  documents: ParsedDocument[];
}

/**
 * Builds a document's extracted text paragraph by paragraph (separated by blank lines) and records each paragraph's
 * offsets, so that provenance offsets point at real characters of a reproducible text.
 */
export class ExtractedText {
  #length = 0;
  readonly paragraphs: ParsedParagraph[] = [];

  add(text: string, headingPath: string[], page: number | null = null): void {
    const clean = normalizeSpace(text);
    if (!clean) return;
    if (this.#length > 0) this.#length += 2;
    this.paragraphs.push({ text: clean, start: this.#length, end: this.#length + clean.length, headingPath, page });
    this.#length += clean.length;
  }

  /** The text the offsets point into. */
  toString(): string {
    return this.paragraphs.map((p) => p.text).join('\n\n');
  }
}
