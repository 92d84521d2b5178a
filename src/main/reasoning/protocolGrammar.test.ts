import { describe, expect, it } from 'vitest';
import { boundedText, createProtocolGrammar } from './protocolGrammar';

/** Every `{m,n}` repetition count in a grammar (llama.cpp refuses 2000 and more). */
const counts = (grammar: string): number[] => [...grammar.matchAll(/\{(\d+)(?:,(\d*))?\}/g)].flatMap((m) => [Number(m[1]), Number(m[2] || 0)]);

describe('protocol grammar bounds', () => {
  it('writes a short bound as one repetition and a long one from blocks, never with a count llama.cpp refuses', () => {
    expect(boundedText('t', '[^<]', [1, 1999])).toEqual({ expr: '[^<]{1,1999}', rules: [] });
    expect(boundedText('t', '[^<]', [1, null]).expr).toBe('[^<]+');
    const long = boundedText('t', '[^<]', [3, 5050]);
    // 3 required, then up to 5047: 49 blocks of 100 and at most 99 more, or 50 blocks and at most 47 more.
    expect(long.expr).toBe('[^<]{3} t-upto');
    expect(long.rules).toEqual(['t-block ::= [^<]{100}', 't-upto ::= t-block{0,49} [^<]{0,99} | t-block{50} [^<]{0,47}']);
    const grammar = createProtocolGrammar({ thinkChars: [1, 100_000], queryChars: [1, 1999] }).reasoning({ allowQuery: true, requireQuery: false });
    expect(Math.max(...counts(grammar))).toBeLessThan(2000);
    expect(() => boundedText('t', '[^<]', [2000, 3000])).toThrow(RangeError);
  });

  it('defaults to 2000 characters of thought per step and 300 per query; after a closed thought only the tail remains', () => {
    const grammar = createProtocolGrammar();
    const step = grammar.reasoning({ allowQuery: true, requireQuery: false });
    // 1 required and up to 1999 more: still within one repetition.
    expect(step).toContain('root ::= ws "<think>" [^<]{1} [^<]{0,1999} "</think>" ws (query | "<answer>")');
    expect(step).toContain('query ::= "<query>" [^<]{1,300} "</query>"');
    const after = grammar.reasoning({ allowQuery: false, requireQuery: false, afterThink: true });
    expect(after.split('\n')[0]).toBe('root ::= ws "<answer>"');
    expect(after).not.toContain('think-text');
    // The loop has written <think>: the step starts inside the thought.
    const opened = grammar.reasoning({ allowQuery: true, requireQuery: false, thinkOpened: true });
    expect(opened.split('\n')[0]).toBe('root ::= [^<]{1} [^<]{0,1999} "</think>" ws (query | "<answer>")');
  });
});
