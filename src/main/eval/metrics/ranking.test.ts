import { describe, expect, it } from 'vitest';
import { dcgAtK, evaluateRankings, ndcgAtK, precisionAtK, recallAtK, reciprocalRank } from './ranking';

const judgments = new Map<string, number>([
  ['a', 3],
  ['b', 2],
  ['c', 0],
  ['d', 1],
]);

describe('ranking metrics', () => {
  it('computes DCG with linear and exponential gains', () => {
    // ranks 1..3: a (3), c (0), b (2) → 3/log2(2) + 0 + 2/log2(4) = 3 + 1 = 4
    expect(dcgAtK(['a', 'c', 'b'], judgments, 3)).toBeCloseTo(4, 10);
    // exponential: 7/1 + 0 + 3/2 = 8.5
    expect(dcgAtK(['a', 'c', 'b'], judgments, 3, 'exponential')).toBeCloseTo(8.5, 10);
  });

  it('normalises by the ideal ordering of all judged items', () => {
    expect(ndcgAtK(['a', 'b', 'd'], judgments, 3)).toBeCloseTo(1, 10);
    const ideal = 3 + 2 / Math.log2(3) + 1 / Math.log2(4);
    expect(ndcgAtK(['d', 'b', 'a'], judgments, 3)).toBeCloseTo((1 + 2 / Math.log2(3) + 3 / Math.log2(4)) / ideal, 10);
    expect(ndcgAtK(['x', 'y'], judgments, 10)).toBe(0);
    expect(ndcgAtK(['a'], new Map([['a', 0]]), 10)).toBeNaN();
  });

  it('counts recall, precision and reciprocal rank against a relevance threshold', () => {
    expect(recallAtK(['c', 'a', 'x'], judgments, 10)).toBeCloseTo(1 / 3, 10);
    expect(recallAtK(['c', 'a', 'b'], judgments, 10, 2)).toBe(1);
    expect(recallAtK(['c', 'a', 'b'], judgments, 2, 2)).toBe(0.5);
    expect(recallAtK(['a', 'a', 'a'], judgments, 3)).toBeCloseTo(1 / 3, 10);
    expect(precisionAtK(['a', 'x'], judgments, 4)).toBe(0.25);
    expect(reciprocalRank(['x', 'c', 'd'], judgments)).toBeCloseTo(1 / 3, 10);
    expect(reciprocalRank(['x', 'c', 'd'], judgments, 2)).toBe(0);
    expect(reciprocalRank(['x', 'c', 'd'], judgments, 1, 2)).toBe(0);
  });

  it('averages over queries with relevant items and lists the others', () => {
    const summary = evaluateRankings(
      [
        { id: 'q1', ranked: ['a', 'b', 'd'], judgments },
        { id: 'q2', ranked: ['x'], judgments },
        { id: 'q3', ranked: ['a'], judgments: new Map([['a', 0]]) },
      ],
      { k: 3 },
    );
    expect(summary.queries).toBe(2);
    expect(summary.skipped).toEqual(['q3']);
    expect(summary.ndcg).toBeCloseTo(0.5, 10);
    expect(summary.recall).toBeCloseTo(0.5, 10);
    expect(summary.mrr).toBeCloseTo(0.5, 10);
    expect(summary.perQuery.map((q) => q.id)).toEqual(['q1', 'q2']);
  });
});
