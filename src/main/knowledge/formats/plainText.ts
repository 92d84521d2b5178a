import { normalizeSpace } from '../text/tokens';
import type { ParsedParagraph, ParsedSource } from './ParsedSource';

/**
 * Plain text: paragraphs are separated by blank lines; a short single-line paragraph without closing punctuation
 * ("X-Rays", "Symptoms") is taken as a heading for what follows. Offsets point into the file's text itself.
 */
export function parsePlainText(text: string, fallbackTitle: string): ParsedSource {
  const paragraphs: ParsedParagraph[] = [];
  let title: string | null = null;
  let heading: string | null = null;
  for (let block of blocks(text)) {
    if (title === null && paragraphs.length === 0) {
      // The first line is the title when it is short (and the whole first block, or a "# " line).
      const newline = block.text.indexOf('\n');
      const firstLine = newline < 0 ? block.text : block.text.slice(0, newline);
      if (firstLine.length <= 160 && (newline < 0 || firstLine.startsWith('#'))) {
        title = firstLine.replace(/^#+\s*/, '').trim();
        if (newline < 0) continue;
        const rest = block.text.slice(newline + 1);
        const lead = rest.length - rest.trimStart().length;
        block = { text: rest.trim(), start: block.start + newline + 1 + lead, end: block.end };
      }
    }
    const oneLine = !block.text.includes('\n');
    const clean = normalizeSpace(block.text);
    const stripped = clean.replace(/^#+\s*/, '');
    if (oneLine && looksLikeHeading(clean)) {
      heading = stripped;
      continue;
    }
    paragraphs.push({
      text: clean,
      start: block.start,
      end: block.end,
      headingPath: heading ? [heading] : [],
      page: null,
    });
  }
  return {
    title: title ?? fallbackTitle,
    format: 'text',
    license: null,
    attribution: null,
    documents: [{ id: null, title: title ?? fallbackTitle, url: null, paragraphs }],
  };
}

function looksLikeHeading(line: string): boolean {
  return line.length <= 80 && !/[.:;,?!)"”]$/.test(line) && !/^[-*•\d]/.test(line) && /\p{L}/u.test(line);
}

/** Blank-line separated blocks with their offsets in `text`. */
export function* blocks(text: string): Generator<{ text: string; start: number; end: number }> {
  const separator = /\n[ \t]*\n\s*/g;
  let from = 0;
  const emit = (to: number): { text: string; start: number; end: number } | null => {
    const raw = text.slice(from, to);
    const lead = raw.length - raw.trimStart().length;
    const body = raw.trim();
    return body ? { text: body, start: from + lead, end: from + lead + body.length } : null;
  };
  for (const match of text.matchAll(separator)) {
    const block = emit(match.index);
    if (block) yield block;
    from = match.index + match[0].length;
  }
  const last = emit(text.length);
  if (last) yield last;
}
