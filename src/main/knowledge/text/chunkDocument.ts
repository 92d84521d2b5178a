import type { ParsedParagraph } from '../formats/ParsedSource';
import { estimateTokens, splitByLength, splitSentences, type TextSpan } from './tokens';

export interface ChunkOptions {
  /** Upper bound of a chunk in estimated tokens. Defaults to 256 (three chunks fit a small model's context). */
  maxTokens?: number;
  /** Context repeated from the end of the previous chunk when a section is cut. Defaults to 32 tokens. */
  overlapTokens?: number;
}

export interface Chunk {
  text: string;
  headingPath: string[];
  page: number | null;
  start: number;
  end: number;
}

interface Piece extends TextSpan {
  paragraph: number;
}

/**
 * Packs paragraphs into chunks of at most `maxTokens`. A chunk never crosses a heading or a page (so its section and
 * page cite it exactly); a paragraph too long for one chunk is cut at sentences, and a sentence too long at spaces.
 * When a section needs several chunks, each repeats the last sentences of the previous one (`overlapTokens`).
 */
export function chunkDocument(paragraphs: readonly ParsedParagraph[], options: ChunkOptions = {}): Chunk[] {
  const maxTokens = options.maxTokens ?? 256;
  const overlapTokens = options.overlapTokens ?? 32;
  const chunks: Chunk[] = [];
  let group: ParsedParagraph[] = [];
  const flush = (): void => {
    if (group.length > 0) packGroup(group, maxTokens, overlapTokens, chunks);
    group = [];
  };
  for (const paragraph of paragraphs) {
    if (!paragraph.text) continue;
    const last = group[group.length - 1];
    if (last && !sameSection(last, paragraph)) flush();
    group.push(paragraph);
  }
  flush();
  return chunks;
}

function sameSection(a: ParsedParagraph, b: ParsedParagraph): boolean {
  if (a.page !== b.page) return false;
  if (a.headingPath === b.headingPath) return true;
  return a.headingPath.length === b.headingPath.length && a.headingPath.every((h, i) => h === b.headingPath[i]);
}

function packGroup(group: ParsedParagraph[], maxTokens: number, overlapTokens: number, out: Chunk[]): void {
  const first = group[0]!;
  const pieces: Piece[] = [];
  group.forEach((paragraph, index) => {
    // Object literals, not spreads: on bulk ingestion a spread here cost more than the rest of the packing.
    if (estimateTokens(paragraph.text) <= maxTokens) {
      pieces.push({ text: paragraph.text, start: paragraph.start, end: paragraph.end, paragraph: index });
      return;
    }
    for (const sentence of splitSentences(paragraph)) {
      const parts = estimateTokens(sentence.text) <= maxTokens ? [sentence] : splitByLength(sentence, maxTokens * 4);
      for (const { text, start, end } of parts) pieces.push({ text, start, end, paragraph: index });
    }
  });

  let current: Piece[] = [];
  let tokens = 0;
  const emit = (): void => {
    const head = current[0];
    const tail = current[current.length - 1];
    if (!head || !tail) return;
    let text = head.text;
    for (let i = 1; i < current.length; i++) {
      text += current[i]!.paragraph === current[i - 1]!.paragraph ? ' ' : '\n\n';
      text += current[i]!.text;
    }
    out.push({ text, headingPath: first.headingPath, page: first.page, start: head.start, end: tail.end });
  };
  for (const piece of pieces) {
    const pieceTokens = estimateTokens(piece.text);
    if (current.length > 0 && tokens + pieceTokens > maxTokens) {
      emit();
      const overlap: Piece[] = [];
      let overlapSize = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const size = estimateTokens(current[i]!.text);
        if (overlapSize + size > overlapTokens || overlapSize + size + pieceTokens > maxTokens) break;
        overlap.unshift(current[i]!);
        overlapSize += size;
      }
      current = overlap;
      tokens = overlapSize;
    }
    current.push(piece);
    tokens += pieceTokens;
  }
  emit();
}
