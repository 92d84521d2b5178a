import { hash } from 'node:crypto';
import type { ParsedSource, SourceFormat } from '../formats/ParsedSource';
import { parseSource } from '../formats/readSource';
import { headingOf, type PreparedPassage } from '../store/PassageRepository';
import { chunkDocument, type ChunkOptions } from '../text/chunkDocument';

/** A file parsed, chunked and made ready to store: everything ingestion does before its transaction. */
export interface PreparedSource {
  title: string;
  format: SourceFormat;
  license: string | null;
  attribution: string | null;
  passages: PreparedPassage[];
  /** passageHash of each passage's text, 20 bytes each, in passage order: one buffer that crosses threads whole. */
  textHashes: Uint8Array;
}

const textHashBytes = 20;

/** The dedupe hash of passage `index` of a prepared source. */
export function textHashAt(source: PreparedSource, index: number): Uint8Array {
  return source.textHashes.subarray(index * textHashBytes, (index + 1) * textHashBytes);
}

/** Parses a file's bytes and prepares its passages for the store. Pure: it runs on ingestion's worker thread. */
export async function prepareSource(
  raw: Uint8Array,
  path: string,
  chunking: ChunkOptions,
  signal?: AbortSignal,
): Promise<PreparedSource> {
  const parsed = await parseSource(raw, path, signal);
  const passages = toPassages(parsed, chunking);
  const textHashes = new Uint8Array(passages.length * textHashBytes);
  passages.forEach((p, i) => textHashes.set(chunkTextHash(p.text), i * textHashBytes));
  return {
    title: parsed.title,
    format: parsed.format,
    license: parsed.license,
    attribution: parsed.attribution,
    passages,
    textHashes,
  };
}

/** A parsed source's passages, chunk by chunk, as ingestion stores them. */
export function toPassages(parsed: ParsedSource, chunking: ChunkOptions = {}): PreparedPassage[] {
  const passages: PreparedPassage[] = [];
  for (const document of parsed.documents) {
    // Chunks of one section share its heading path (the same array): its heading and JSON are worked out once.
    let section: string[] | null = null;
    let heading = '';
    let sectionJson = '';
    for (const chunk of chunkDocument(document.paragraphs, chunking)) {
      if (chunk.headingPath !== section) {
        section = chunk.headingPath;
        heading = headingOf(document.title, section);
        sectionJson = JSON.stringify(section);
      }
      passages.push({
        ordinal: passages.length,
        documentId: document.id,
        title: document.title,
        url: document.url,
        section,
        page: chunk.page,
        charStart: chunk.start,
        charEnd: chunk.end,
        text: chunk.text,
        heading,
        sectionJson,
      });
    }
  }
  return passages;
}

/**
 * passageHash(text) of a chunk's text, without the general whitespace fold. A chunk joins pieces of paragraphs, whose
 * text is whitespace-normalized (ParsedParagraph.text), with ' ' or '\n\n': those blank lines are the only whitespace
 * the fold would change. The general fold was a sixth of parsing's time; prepareSource.test checks both agree.
 */
export function chunkTextHash(text: string): Buffer {
  return hash('sha1', text.toLowerCase().replaceAll('\n\n', ' '), 'buffer');
}
