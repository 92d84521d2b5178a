import { describe, expect, it } from 'vitest';
import { StreamingTagParser, type ParserEvent } from './StreamingTagParser';

/** Feeds `chunks` and returns the events with adjacent text of one segment merged (chunking must not matter). */
function parse(chunks: string[], finish = true): ParserEvent[] {
  const parser = new StreamingTagParser();
  const events = chunks.flatMap((c) => parser.push(c));
  events.push(...(finish ? parser.finish() : parser.flush()));
  return merge(events);
}

function merge(events: ParserEvent[]): ParserEvent[] {
  const out: ParserEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.type === 'text' && last?.type === 'text' && last.segment === e.segment) last.text += e.text;
    else out.push(e.type === 'text' ? { ...e } : e);
  }
  return out;
}

const summary = (events: ParserEvent[]): string[] =>
  events.map((e) =>
    e.type === 'text'
      ? `${e.segment}:${e.text}`
      : e.type === 'anomaly'
        ? `!${e.kind}`
        : `${e.type === 'open' ? '+' : '-'}${e.tag}`,
  );

const canonical =
  '<think> The lesion is hyperdense. </think>\n<query> acute subdural hematoma CT </query>';

describe('StreamingTagParser', () => {
  it('parses the canonical protocol into segments', () => {
    expect(summary(parse([canonical]))).toEqual([
      '+think',
      'think: The lesion is hyperdense. ',
      '-think',
      'other:\n',
      '+query',
      'query: acute subdural hematoma CT ',
      '-query',
    ]);
  });

  it('gives the same events however the text is split into tokens', () => {
    const text = `${canonical}\n<answer> B </answer> trailing < 5 mm <thin`;
    const whole = parse([text]);
    for (let size = 1; size <= 7; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(parse(chunks)).toEqual(whole);
    }
    for (let cut = 1; cut < text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
  });

  it('holds back only what could still be a tag', () => {
    const parser = new StreamingTagParser();
    expect(parser.push('<think>a <')).toEqual([
      { type: 'open', tag: 'think', raw: '<think>', offset: 0 },
      { type: 'text', segment: 'think', text: 'a ' },
    ]);
    expect(parser.push('5 mm')).toEqual([{ type: 'text', segment: 'think', text: '<5 mm' }]);
    expect(parser.push(' </thi')).toEqual([{ type: 'text', segment: 'think', text: ' ' }]);
    expect(parser.push('nk>')).toMatchObject([{ type: 'close', tag: 'think', content: 'a <5 mm ' }]);
  });

  it('recognises case and whitespace variants and reports them', () => {
    const events = parse(['<THINK>x</ Think >', '<Answer >y< /answer>']);
    expect(summary(events)).toEqual([
      '!non-canonical-tag',
      '+think',
      'think:x',
      '!non-canonical-tag',
      '-think',
      '!non-canonical-tag',
      '+answer',
      'answer:y',
      '!non-canonical-tag',
      '-answer',
    ]);
  });

  it('leaves non-protocol angle brackets as text', () => {
    expect(summary(parse(['PSA <4 ng/mL, <b>bold</b> <<answer>ok</answer>']))).toEqual([
      'other:PSA <4 ng/mL, <b>bold</b> <',
      '+answer',
      'answer:ok',
      '-answer',
    ]);
  });

  it('allows a query inside think and returns to think after it', () => {
    const events = parse(['<think> a <query> q </query> b </think>']);
    expect(summary(events)).toEqual(['+think', 'think: a ', '+query', 'query: q ', '-query', 'think: b ', '-think']);
  });

  it('closes an open think when the answer opens inside it', () => {
    const parser = new StreamingTagParser();
    const events = merge([...parser.push('<think> a <query> q <answer> A </answer>'), ...parser.finish()]);
    expect(summary(events)).toEqual([
      '+think',
      'think: a ',
      '+query',
      'query: q ',
      '!implicit-close',
      '-query',
      '!implicit-close',
      '-think',
      '+answer',
      'answer: A ',
      '-answer',
    ]);
    expect(parser.openTag).toBeNull();
  });

  it('reports a second <answer> inside the first and unmatched closes', () => {
    expect(summary(parse(['<answer> A <answer> B </answer></answer></think>']))).toEqual([
      '+answer',
      'answer: A ',
      '!nested-open',
      'answer: B ',
      '-answer',
      '!unmatched-close',
      '!unmatched-close',
    ]);
  });

  it('reports a retrieve block written by the model', () => {
    expect(summary(parse(['<retrieve> made up </retrieve>']))).toEqual([
      '!model-retrieve',
      '+retrieve',
      'other: made up ',
      '-retrieve',
    ]);
  });

  it('ends in a defined state when tags stay open', () => {
    const parser = new StreamingTagParser();
    parser.push('<think> never closed <quer');
    expect(parser.openTag).toBe('think');
    const end = parser.finish();
    expect(end).toEqual([
      { type: 'text', segment: 'think', text: '<quer' },
      expect.objectContaining({ type: 'anomaly', kind: 'unclosed-at-end' }),
    ]);
    expect(parser.openContent).toBe(' never closed <quer');
  });

  it('closes a query on the loop’s behalf', () => {
    const parser = new StreamingTagParser();
    parser.push('<think> t </think><query> effusion');
    expect(parser.forceClose('query')).toEqual([
      expect.objectContaining({ type: 'close', tag: 'query', content: ' effusion', implicit: true }),
    ]);
    expect(parser.openTag).toBeNull();
  });

  it('parses an empty query and a query of spaces', () => {
    const events = parse(['<query></query><query>  </query>']);
    const closes = events.filter((e) => e.type === 'close');
    expect(closes.map((e) => e.type === 'close' && e.content)).toEqual(['', '  ']);
  });

  it('does not hold back on a long run of text after "<"', () => {
    const parser = new StreamingTagParser();
    expect(parser.push('<        ')).toEqual([{ type: 'text', segment: 'other', text: '<        ' }]);
    expect(parser.push('<answerx>')).toEqual([{ type: 'text', segment: 'other', text: '<answerx>' }]);
  });
});
