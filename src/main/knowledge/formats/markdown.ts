import type { ParsedParagraph, ParsedSource } from './ParsedSource';
import { blocks } from './plainText';

/**
 * Markdown: ATX (`#`) and setext (`===`/`---`) headings build the heading path; front matter and HTML comments are
 * dropped; inline markup (links, images, emphasis, code spans, tags) is reduced to its text. Offsets point into the
 * file's text, at the block the passage text was taken from.
 */
export function parseMarkdown(source: string, fallbackTitle: string): ParsedSource {
  const text = source.replace(/^---\n[\s\S]*?\n---\n/, (m) => ' '.repeat(m.length));
  const paragraphs: ParsedParagraph[] = [];
  const headings: { level: number; text: string }[] = [];
  let title: string | null = null;
  const setHeading = (level: number, raw: string): void => {
    const heading = inlineText(raw);
    if (level === 1 && title === null) title = heading;
    while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
    headings.push({ level, text: heading });
  };
  for (const block of blocks(text)) {
    if (/^```|^~~~/.test(block.text)) {
      pushParagraph(paragraphs, block.text.replace(/^(```|~~~).*\n?|\n?(```|~~~)\s*$/g, ''), block, headings);
      continue;
    }
    const lines = block.text.split('\n');
    let bodyStart = 0;
    let bodyOffset = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const atx = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      const setext = i + 1 < lines.length && /^(=+|-+)\s*$/.test(lines[i + 1]!) && line.trim() !== '';
      if (atx || setext) {
        if (i > bodyStart) {
          const body = lines.slice(bodyStart, i).join('\n');
          pushParagraph(
            paragraphs,
            body,
            { start: block.start + bodyOffset, end: block.start + bodyOffset + body.length },
            headings,
          );
        }
        if (atx) setHeading(atx[1]!.length, atx[2]!);
        else setHeading(lines[i + 1]!.startsWith('=') ? 1 : 2, line);
        const consumed = setext ? 2 : 1;
        for (let c = 0; c < consumed; c++) bodyOffset += lines[i + c]!.length + 1;
        i += consumed - 1;
        bodyStart = i + 1;
      }
    }
    if (bodyStart < lines.length) {
      const body = lines.slice(bodyStart).join('\n');
      pushParagraph(paragraphs, body, { start: block.start + bodyOffset, end: block.end }, headings);
    }
  }
  const finalTitle = title ?? fallbackTitle;
  return {
    title: finalTitle,
    format: 'markdown',
    license: null,
    attribution: null,
    documents: [{ id: null, title: finalTitle, url: null, paragraphs }],
  };
}

function pushParagraph(
  out: ParsedParagraph[],
  raw: string,
  span: { start: number; end: number },
  headings: { text: string }[],
): void {
  const text = inlineText(raw);
  if (!text) return;
  out.push({ text, start: span.start, end: span.end, headingPath: headings.map((h) => h.text), page: null });
}

/** Markdown inline markup reduced to readable text. */
export function inlineText(raw: string): string {
  return raw
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<\/?[a-zA-Z][^>]*>/g, ' ')
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, '$1$2')
    .replace(/^\s{0,3}>\s?/gm, '')
    .replace(/^\s*(?:[-*+]|\d+[.)])\s+/gm, '• ')
    .replace(/^\s*\|?\s*:?-{3,}.*$/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}
