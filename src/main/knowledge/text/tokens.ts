/**
 * Token estimates without a tokenizer: about 4 characters per token, the usual ratio of English BPE/SentencePiece
 * vocabularies on prose. Chunk sizes only need to be right within ~20%, and this is fast enough for bulk ingestion.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * The whitespace a fold must rewrite: runs of two or more, and any single whitespace other than a space. Replacing only
 * these gives the same string as replacing every `\s+` run, without one replacement per word gap (on prose that
 * per-match cost was ~3× the cost of hashing the text).
 */
const irregularWhitespace = /\s{2,}|[^\S ]/g;

/** Collapses runs of whitespace (including newlines) into single spaces and trims: `.replace(/\s+/g, ' ').trim()`. */
export function normalizeSpace(text: string): string {
  return text.replace(irregularWhitespace, ' ').trim();
}

export interface TextSpan {
  text: string;
  start: number;
  end: number;
}

const sentenceEnd = /[.!?…]["')\]]*\s+(?=["'([]?[\p{Lu}\p{N}])/gu;

/** Splits a span into sentences at ". " followed by a capital or a digit, keeping offsets into the same text. */
export function splitSentences(span: TextSpan): TextSpan[] {
  const out: TextSpan[] = [];
  let from = 0;
  for (const match of span.text.matchAll(sentenceEnd)) {
    const cut = match.index + match[0].trimEnd().length;
    pushTrimmed(out, span, from, cut);
    from = match.index + match[0].length;
  }
  pushTrimmed(out, span, from, span.text.length);
  return out;
}

/** Splits a span into windows of at most `maxChars`, cutting at whitespace where possible. */
export function splitByLength(span: TextSpan, maxChars: number): TextSpan[] {
  const out: TextSpan[] = [];
  let from = 0;
  while (from < span.text.length) {
    let to = Math.min(span.text.length, from + maxChars);
    if (to < span.text.length) {
      const space = span.text.lastIndexOf(' ', to);
      if (space > from + maxChars / 2) to = space;
    }
    pushTrimmed(out, span, from, to);
    from = to;
  }
  return out;
}

function pushTrimmed(out: TextSpan[], span: TextSpan, from: number, to: number): void {
  const raw = span.text.slice(from, to);
  const lead = raw.length - raw.trimStart().length;
  const text = raw.trim();
  if (text) out.push({ text, start: span.start + from + lead, end: span.start + from + lead + text.length });
}
