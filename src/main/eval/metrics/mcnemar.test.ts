import { describe, expect, it } from 'vitest';
import { chiSquare1Survival, erfc, mcnemar } from './mcnemar';

describe('mcnemar', () => {
  it('uses the exact two-sided binomial test below 25 discordant pairs', () => {
    // b=2, c=8: 2·(C(10,0)+C(10,1)+C(10,2))/2^10 = 2·56/1024.
    expect(mcnemar(2, 8)).toEqual({ method: 'exact-binomial', statistic: 2, pValue: 0.109375 });
    expect(mcnemar(8, 2).pValue).toBe(0.109375);
    // b=0, c=5: 2·1/32.
    expect(mcnemar(0, 5).pValue).toBe(0.0625);
    // b=c=3: 2·42/64 > 1, capped at 1.
    expect(mcnemar(3, 3).pValue).toBe(1);
    expect(mcnemar(12, 12).method).toBe('exact-binomial');
  });

  it('uses chi-square with continuity correction from 25 discordant pairs on', () => {
    // b=10, c=25: (|10−25|−1)²/35 = 196/35 = 5.6; P[χ²₁ ≥ 5.6] = erfc(√2.8) = 0.0179605 (math.erfc).
    const result = mcnemar(10, 25);
    expect(result.method).toBe('chi-square-cc');
    expect(result.statistic).toBeCloseTo(5.6, 12);
    expect(result.pValue).toBeCloseTo(0.0179605, 6);
  });

  it('has nothing to test without discordant pairs', () => {
    expect(mcnemar(0, 0)).toEqual({ method: 'none', statistic: null, pValue: null });
  });

  it('computes the chi-square tail and erfc accurately', () => {
    expect(chiSquare1Survival(3.841458820694124)).toBeCloseTo(0.05, 6);
    expect(chiSquare1Survival(0)).toBe(1);
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 6);
  });
});
