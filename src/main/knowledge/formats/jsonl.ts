import { InvalidInputError } from '../../errors/AppError';
import { ExtractedText, type ParsedDocument, type ParsedSource } from './ParsedSource';

/**
 * JSONL: one record per line, `{"id", "title", "text"}` required; `url` and `section` (string or array) optional.
 * An optional first line `{"_meta": {"title", "license", "attribution"}}` describes the whole file (the bundled
 * knowledge base uses it to carry its attribution). Any malformed line fails the whole file, naming the line.
 */
export function parseJsonl(text: string, fallbackTitle: string, what: string): ParsedSource {
  const documents: ParsedDocument[] = [];
  let title = fallbackTitle;
  let license: string | null = null;
  let attribution: string | null = null;
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const where = `${what} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InvalidInputError(where, 'a JSON object', `invalid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(where, 'a JSON object', Array.isArray(value) ? 'an array' : typeof value);
    }
    const record = value as Record<string, unknown>;
    if (index === 0 && typeof record['_meta'] === 'object' && record['_meta'] !== null) {
      const meta = record['_meta'] as Record<string, unknown>;
      if (typeof meta['title'] === 'string') title = meta['title'];
      if (typeof meta['license'] === 'string') license = meta['license'];
      if (typeof meta['attribution'] === 'string') attribution = meta['attribution'];
      return;
    }
    const id = record['id'];
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new InvalidInputError(where, 'an "id" string or number', describe(id));
    }
    if (typeof record['title'] !== 'string')
      throw new InvalidInputError(where, 'a "title" string', describe(record['title']));
    if (typeof record['text'] !== 'string')
      throw new InvalidInputError(where, 'a "text" string', describe(record['text']));
    const section = record['section'];
    const headingPath = Array.isArray(section)
      ? section.filter((s): s is string => typeof s === 'string')
      : typeof section === 'string'
        ? [section]
        : [];
    const extracted = new ExtractedText();
    for (const paragraph of record['text'].split(/\n\s*\n/)) extracted.add(paragraph, headingPath);
    documents.push({
      id: String(id),
      title: record['title'],
      url: typeof record['url'] === 'string' ? record['url'] : null,
      paragraphs: extracted.paragraphs,
    });
  });
  return { title, format: 'jsonl', license, attribution, documents };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
