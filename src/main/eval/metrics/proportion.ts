import type { Proportion } from '../../../shared/contract';

/** 1.959964: the two-sided 95% normal quantile. */
const z95 = 1.959963984540054;

/**
 * count/total with its Wilson score 95% interval, which stays inside [0, 1] and behaves at 0 and n (unlike the
 * Wald interval) — pilot studies have small n.
 */
export function proportion(count: number, total: number): Proportion {
  if (total === 0) return { count, total, rate: null, ci95: null };
  const p = count / total;
  const z2 = z95 * z95;
  const denominator = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denominator;
  const half = (z95 * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denominator;
  return { count, total, rate: p, ci95: [Math.max(0, centre - half), Math.min(1, centre + half)] };
}
