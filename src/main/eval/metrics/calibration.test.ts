import { describe, expect, it } from 'vitest';
import { binIndex, calibrationReport } from './calibration';

describe('calibrationReport', () => {
  // Hand-computed: bins (0.2,0.3] {0.25 ✗, 0.3 ✓}, (0.8,0.9] {0.85 ✓}, (0.9,1] {0.95 ✓, 0.95 ✗}, [0,0.1] {0 ✗}.
  // ECE = (1·0 + 2·|0.5−0.275| + 1·|1−0.85| + 2·|0.5−0.95|) / 6 = (0.45 + 0.15 + 0.9) / 6 = 0.25; MCE = 0.45.
  // Brier = (0.0025 + 0.9025 + 0.0225 + 0.0625 + 0.49 + 0) / 6 = 1.48 / 6.
  const points = [
    { confidence: 0.95, correct: true },
    { confidence: 0.95, correct: false },
    { confidence: 0.85, correct: true },
    { confidence: 0.25, correct: false },
    { confidence: 0.3, correct: true },
    { confidence: 0, correct: false },
    { confidence: null, correct: true },
  ];

  it('computes ECE, MCE and Brier from equal-width bins', () => {
    const report = calibrationReport(points);
    expect(report.items).toBe(6);
    expect(report.missing).toBe(1);
    expect(report.ece).toBeCloseTo(0.25, 12);
    expect(report.mce).toBeCloseTo(0.45, 12);
    expect(report.brier).toBeCloseTo(1.48 / 6, 12);
    expect(report.bins).toHaveLength(10);
  });

  it('reports counts, accuracy and mean confidence per bin', () => {
    const bins = calibrationReport(points).bins;
    expect(bins.map((b) => b.count)).toEqual([1, 0, 2, 0, 0, 0, 0, 0, 1, 2]);
    expect(bins[2]).toMatchObject({ lower: 0.2, upper: 0.3, count: 2, correct: 1, accuracy: 0.5 });
    expect(bins[2]!.meanConfidence).toBeCloseTo(0.275, 12);
    expect(bins[1]).toMatchObject({ count: 0, accuracy: null, meanConfidence: null });
    expect(bins[9]).toMatchObject({ count: 2, correct: 1, accuracy: 0.5 });
  });

  it('puts exact edges in the bin they close and clamps 0 and 1', () => {
    expect(binIndex(0.3, 10)).toBe(2);
    expect(binIndex(0.1, 10)).toBe(0);
    expect(binIndex(0.10000001, 10)).toBe(1);
    expect(binIndex(0, 10)).toBe(0);
    expect(binIndex(1, 10)).toBe(9);
    expect(binIndex(0.5, 5)).toBe(2);
  });

  it('is perfectly calibrated when accuracy equals confidence in every bin', () => {
    const perfect = [
      ...Array.from({ length: 4 }, (_, i) => ({ confidence: 0.75, correct: i < 3 })),
      ...Array.from({ length: 2 }, (_, i) => ({ confidence: 0.5, correct: i < 1 })),
    ];
    const report = calibrationReport(perfect, { binCount: 4 });
    expect(report.ece).toBeCloseTo(0, 12);
    expect(report.bins.map((b) => b.count)).toEqual([0, 2, 4, 0]);
  });

  it('has no ECE without any confidence', () => {
    const report = calibrationReport([{ confidence: null, correct: true }]);
    expect(report).toMatchObject({ items: 0, missing: 1, ece: null, mce: null, brier: null });
  });
});
