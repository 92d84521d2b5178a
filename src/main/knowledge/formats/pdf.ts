import { InvalidInputError } from '../../errors/AppError';
import { throwIfAborted } from '../../errors/AppError';
import { ExtractedText, type ParsedSource } from './ParsedSource';

interface Line {
  text: string;
  y: number;
  height: number;
}

interface TextItemLike {
  str: string;
  transform: number[];
  height: number;
  hasEOL: boolean;
}

/**
 * PDF via pdfjs-dist: text lines are rebuilt from positioned text items, grouped into paragraphs by vertical gaps,
 * and lines set in a clearly larger font than the body become headings (levels by size). Every paragraph keeps its
 * 1-based page number. Bare page numbers are dropped. A PDF without a text layer (scanned) yields no passages.
 */
export async function parsePdf(
  bytes: Uint8Array,
  fallbackTitle: string,
  what: string,
  signal?: AbortSignal,
): Promise<ParsedSource> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let document;
  try {
    document = await getDocument({
      data: bytes.slice(),
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    throw new InvalidInputError(what, 'a readable PDF', (error as Error).message);
  }
  try {
    const pages: Line[][] = [];
    for (let n = 1; n <= document.numPages; n++) {
      throwIfAborted(signal, `reading ${what}`);
      const page = await document.getPage(n);
      const content = await page.getTextContent();
      pages.push(toLines(content.items.filter((i) => 'str' in i) as unknown as TextItemLike[]));
      page.cleanup();
    }
    dropRunningLines(pages);
    const heights = pages
      .flat()
      .filter((l) => l.text.length > 20)
      .map((l) => l.height)
      .sort((a, b) => a - b);
    const body = heights[Math.floor(heights.length / 2)] ?? 10;
    const headingSizes = [
      ...new Set(
        pages
          .flat()
          .filter((l) => isHeading(l, body))
          .map((l) => round(l.height)),
      ),
    ].sort((a, b) => b - a);
    const extracted = new ExtractedText();
    const headings: { size: number; text: string }[] = [];
    let firstHeading: string | null = null;
    pages.forEach((lines, index) => {
      const pageNumber = index + 1;
      let paragraph = '';
      let previous: Line | null = null;
      const flush = (): void => {
        extracted.add(
          paragraph,
          headings.map((h) => h.text),
          pageNumber,
        );
        paragraph = '';
      };
      for (const line of lines) {
        if (/^\s*\d{1,4}\s*$/.test(line.text)) continue;
        if (isHeading(line, body)) {
          flush();
          const size = round(line.height);
          const last = headings[headings.length - 1];
          if (
            last &&
            last.size === size &&
            previous &&
            isHeading(previous, body) &&
            previous.y - line.y < line.height * 2
          ) {
            last.text = `${last.text} ${line.text.trim()}`;
          } else {
            while (headings.length > 0 && headings[headings.length - 1]!.size <= size) headings.pop();
            if (headingSizes.indexOf(size) < 4) headings.push({ size, text: line.text.trim() });
            firstHeading ??= line.text.trim();
          }
          previous = line;
          continue;
        }
        const gap = previous ? previous.y - line.y : 0;
        if (previous && (gap > Math.max(previous.height, line.height) * 1.6 || gap < 0)) flush();
        paragraph = paragraph.endsWith('-') ? paragraph.slice(0, -1) + line.text.trim() : `${paragraph} ${line.text}`;
        previous = line;
      }
      flush();
    });
    const info = (await document.getMetadata().catch(() => null))?.info as { Title?: unknown } | undefined;
    const metaTitle = typeof info?.Title === 'string' && info.Title.trim() ? info.Title.trim() : null;
    const title = metaTitle ?? firstHeading ?? fallbackTitle;
    return {
      title,
      format: 'pdf',
      license: null,
      attribution: null,
      documents: [{ id: null, title, url: null, paragraphs: extracted.paragraphs }],
    };
  } finally {
    await document.destroy();
  }
}

/** Removes running headers/footers: the same first or last line (digits aside) on at least 3 pages and 40% of them. */
function dropRunningLines(pages: Line[][]): void {
  const counts = new Map<string, number>();
  const key = (line: Line | undefined): string | null => (line ? line.text.replace(/\d+/g, '#').trim() : null);
  for (const lines of pages) {
    const edges = new Set([key(lines[0]), key(lines[lines.length - 1])]);
    for (const k of edges) if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const running = new Set([...counts].filter(([, n]) => n >= 3 && n >= pages.length * 0.4).map(([k]) => k));
  if (running.size === 0) return;
  // The first page keeps its top line: running headers usually repeat the title, which is set there.
  pages.forEach((lines, index) => {
    if (index > 0 && lines.length > 0 && running.has(key(lines[0])!)) lines.shift();
    if (lines.length > 0 && running.has(key(lines[lines.length - 1])!)) lines.pop();
  });
}

function toLines(items: TextItemLike[]): Line[] {
  const lines: Line[] = [];
  let current: Line | null = null;
  for (const item of items) {
    const y = item.transform[5] ?? 0;
    const height = item.height || Math.abs(item.transform[3] ?? 0);
    if (current && Math.abs(current.y - y) > Math.max(current.height, height, 1) * 0.5 && item.str.trim()) {
      lines.push(current);
      current = null;
    }
    if (item.str) {
      if (!current) current = { text: item.str, y, height };
      else {
        current.text += item.str;
        current.height = Math.max(current.height, height);
      }
    }
    if (item.hasEOL && current) {
      lines.push(current);
      current = null;
    }
  }
  if (current) lines.push(current);
  return lines.filter((l) => l.text.trim());
}

function isHeading(line: Line, bodyHeight: number): boolean {
  const words = line.text.trim().split(/\s+/).length;
  return line.height >= bodyHeight * 1.18 && words <= 14 && /\p{L}/u.test(line.text);
}

function round(height: number): number {
  return Math.round(height * 2) / 2;
}
