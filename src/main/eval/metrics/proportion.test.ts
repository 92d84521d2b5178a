import { describe, expect, it } from 'vitest';
import { proportion } from './proportion';
import { latencySummary, quantile } from './summaryStats';

describe('proportion', () => {
  it('gives the Wilson 95% interval with the counts', () => {
    const p = proportion(8, 10);
    expect(p).toMatchObject({ count: 8, total: 10, rate: 0.8 });
    expect(p.ci95![0]).toBeCloseTo(0.4901625, 6);
    expect(p.ci95![1]).toBeCloseTo(0.9433178, 6);
  });

  it('stays inside [0, 1] at 0 and has no rate without a total', () => {
    const zero = proportion(0, 5);
    expect(zero.ci95![0]).toBe(0);
    expect(zero.ci95![1]).toBeCloseTo(0.4344825, 6);
    expect(proportion(0, 0)).toEqual({ count: 0, total: 0, rate: null, ci95: null });
  });
});

describe('latency summary', () => {
  it('uses type-7 quantiles', () => {
    expect(quantile([1, 2, 3, 4, 10], 0.9)).toBeCloseTo(7.6, 12);
    const summary = latencySummary([10, 1, 3, 2, 4]);
    expect(summary).toMatchObject({ items: 5, meanMs: 4, medianMs: 3, minMs: 1, maxMs: 10, totalMs: 20 });
    expect(summary.p90Ms).toBeCloseTo(7.6, 12);
    expect(latencySummary([])).toMatchObject({ items: 0, meanMs: null, medianMs: null, totalMs: 0 });
  });
});
