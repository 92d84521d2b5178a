import { describe, expect, it } from 'vitest';
import { ExtractedText } from '../formats/ParsedSource';
import { chunkDocument } from './chunkDocument';
import { estimateTokens } from './tokens';
import { toFtsQuery } from './ftsQuery';

describe('chunkDocument', () => {
  const sentence = (i: number): string => `Sentence number ${i} says something about the chest radiograph findings.`;

  it('packs paragraphs up to the token budget without crossing headings or pages', () => {
    const text = new ExtractedText();
    text.add('Short intro.', ['A']);
    text.add('Another short one.', ['A']);
    text.add('Different heading.', ['A', 'B']);
    text.add('Next page.', ['A', 'B'], 2);
    const chunks = chunkDocument(text.paragraphs, { maxTokens: 100 });
    expect(chunks.map((c) => [c.text, c.headingPath.join('/'), c.page])).toEqual([
      ['Short intro.\n\nAnother short one.', 'A', null],
      ['Different heading.', 'A/B', null],
      ['Next page.', 'A/B', 2],
    ]);
    expect(text.toString().slice(chunks[0]!.start, chunks[0]!.end)).toBe('Short intro.\n\nAnother short one.');
  });

  it('cuts a long paragraph at sentences, overlapping the previous chunk, with offsets into the text', () => {
    const text = new ExtractedText();
    text.add(Array.from({ length: 40 }, (_, i) => sentence(i)).join(' '), ['Findings']);
    const chunks = chunkDocument(text.paragraphs, { maxTokens: 60, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(5);
    const full = text.toString();
    for (const chunk of chunks) {
      expect(estimateTokens(chunk.text)).toBeLessThanOrEqual(60);
      expect(full.slice(chunk.start, chunk.end)).toBe(chunk.text);
    }
    for (let i = 1; i < chunks.length; i++) {
      const lastOfPrevious = chunks[i - 1]!.text.split('. ').at(-1)!;
      expect(chunks[i]!.text.startsWith(lastOfPrevious.replace(/\.$/, ''))).toBe(true);
      expect(chunks[i]!.start).toBeLessThan(chunks[i - 1]!.end);
    }
    expect(chunks.at(-1)!.text.endsWith(sentence(39))).toBe(true);
  });

  it('splits a sentence longer than a chunk at spaces', () => {
    const text = new ExtractedText();
    text.add('word '.repeat(400), []);
    const chunks = chunkDocument(text.paragraphs, { maxTokens: 50, overlapTokens: 0 });
    expect(chunks.every((c) => estimateTokens(c.text) <= 50 && !c.text.startsWith(' '))).toBe(true);
    expect(
      chunks
        .map((c) => c.text)
        .join(' ')
        .split(' ').length,
    ).toBe(400);
  });
});

describe('toFtsQuery', () => {
  it('quotes every term and drops stop words, operators and punctuation', () => {
    expect(toFtsQuery('What are the symptoms of "glaucoma" AND (NOT) pain*?')).toBe(
      '"symptoms" OR "glaucoma" OR "pain"',
    );
    expect(toFtsQuery('NEAR(a b) col:x ^y')).toBe('"near" OR "col"');
    expect(toFtsQuery('the of and ?!')).toBeNull();
    expect(toFtsQuery('   ')).toBeNull();
    expect(toFtsQuery('T2 MRI 3 cm, T2')).toBe('"t2" OR "mri" OR "3" OR "cm"');
  });
});
