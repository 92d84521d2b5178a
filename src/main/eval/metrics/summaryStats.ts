import type { LatencySummary } from '../../../shared/contract';

/** Quantile by linear interpolation between closest ranks (Hyndman & Fan type 7, the default of R and NumPy). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  return a + (b - a) * (position - lower);
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Mean, median, 90th percentile (type 7), min, max and total of per-item latencies. */
export function latencySummary(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    items: sorted.length,
    meanMs: mean(sorted),
    medianMs: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    minMs: sorted[0] ?? null,
    maxMs: sorted.at(-1) ?? null,
    totalMs: sorted.reduce((s, v) => s + v, 0),
  };
}
