import type { CalibrationBin, CalibrationReport } from '../../../shared/contract';

export interface ConfidencePoint {
  /** The model's confidence in its answer, in [0, 1]; null when it gave none. */
  confidence: number | null;
  correct: boolean;
}

/** Index of the equal-width bin (lower, upper] holding `confidence`; 0 also goes to the first bin. */
export function binIndex(confidence: number, binCount: number): number {
  // The epsilon keeps exact edges such as 0.3 (0.30000000000000004 · 10) in the bin they close.
  const index = Math.ceil(confidence * binCount - 1e-9) - 1;
  return Math.min(binCount - 1, Math.max(0, index));
}

/**
 * Reliability bins, ECE, MCE and Brier score. Bins are `binCount` equal-width intervals (lower, upper] over [0, 1]
 * (the first also holds 0); ECE = Σ_b (n_b / n) · |accuracy_b − mean confidence_b| over non-empty bins, as in Guo et
 * al. 2017. Points without a confidence are counted in `missing` and left out.
 */
export function calibrationReport(
  points: readonly ConfidencePoint[],
  options: { binCount?: number; source?: CalibrationReport['confidenceSource'] } = {},
): CalibrationReport {
  const binCount = options.binCount ?? 10;
  const bins: CalibrationBin[] = Array.from({ length: binCount }, (_, i) => ({
    lower: i / binCount,
    upper: (i + 1) / binCount,
    count: 0,
    correct: 0,
    meanConfidence: null,
    accuracy: null,
  }));
  const sums = new Array<number>(binCount).fill(0);
  let items = 0;
  let missing = 0;
  let brierSum = 0;
  for (const point of points) {
    const c = point.confidence;
    if (c === null || !Number.isFinite(c)) {
      missing++;
      continue;
    }
    const confidence = Math.min(1, Math.max(0, c));
    const index = binIndex(confidence, binCount);
    const bin = bins[index]!;
    bin.count++;
    if (point.correct) bin.correct++;
    sums[index]! += confidence;
    brierSum += (confidence - (point.correct ? 1 : 0)) ** 2;
    items++;
  }
  let ece = 0;
  let mce = 0;
  bins.forEach((bin, i) => {
    if (bin.count === 0) return;
    bin.meanConfidence = sums[i]! / bin.count;
    bin.accuracy = bin.correct / bin.count;
    const gap = Math.abs(bin.accuracy - bin.meanConfidence);
    ece += (bin.count / items) * gap;
    mce = Math.max(mce, gap);
  });
  return {
    items,
    missing,
    bins,
    ece: items > 0 ? ece : null,
    mce: items > 0 ? mce : null,
    brier: items > 0 ? brierSum / items : null,
    binning: `${binCount} equal-width bins (lower, upper] over [0, 1]; ECE = Σ (n_b/n)·|acc_b − conf_b| over non-empty bins`,
    confidenceSource: options.source ?? 'used',
  };
}
