import type {
  CdirStats,
  EvalMetrics,
  ModeMetrics,
  PairedComparison,
  ReasoningMode,
  RetrievalStats,
} from '../../../shared/contract';
import type { EvalItem } from '../datasets/EvalItem';
import type { StoredResult } from '../EvalStore';
import { normalizeAnswer } from '../scoring/normalizeAnswer';
import { scoringDescription } from '../scoring/scoreAnswer';
import { calibrationReport } from './calibration';
import { mcnemar } from './mcnemar';
import { proportion } from './proportion';
import { latencySummary, mean } from './summaryStats';

type Scored = { item: EvalItem; result: StoredResult };

const isCorrect = (r: StoredResult): boolean => r.status === 'ok' && r.correct === true;

function countCorrect(rows: readonly Scored[]): ReturnType<typeof proportion> {
  return proportion(rows.filter((r) => isCorrect(r.result)).length, rows.length);
}

/** Every metric of the report, per mode and paired between modes, from the recorded results. */
export function computeMetrics(
  items: readonly EvalItem[],
  results: readonly StoredResult[],
  modes: readonly ReasoningMode[],
  options: { binCount?: number } = {},
): EvalMetrics {
  const modeMetrics = modes.map((mode) => {
    const rows: Scored[] = [];
    for (const result of results) {
      const item = items[result.itemIndex];
      if (result.mode === mode && item) rows.push({ item, result });
    }
    return modeMetricsOf(mode, rows, options.binCount ?? 10);
  });
  const paired: PairedComparison[] = [];
  for (let a = 0; a < modes.length; a++) {
    for (let b = a + 1; b < modes.length; b++) paired.push(pairedComparison(modes[a]!, modes[b]!, results));
  }
  return { modes: modeMetrics, paired, scoring: scoringDescription };
}

function modeMetricsOf(mode: ReasoningMode, rows: Scored[], binCount: number): ModeMetrics {
  const closed = rows.filter((r) => r.item.answerType === 'closed');
  const yesNo = new Set(closed.filter((r) => ['yes', 'no'].includes(normalizeAnswer(r.item.answer))));
  const choice = closed.filter((r) => !yesNo.has(r));
  const open = rows.filter((r) => r.item.answerType === 'open');
  const ran = rows.filter((r) => r.result.status === 'ok');

  const types = new Map<string, Scored[]>();
  for (const row of rows) {
    const key = row.item.questionType ?? '—';
    const typed = types.get(key);
    if (typed) typed.push(row);
    else types.set(key, [row]);
  }
  const recalls = open.map((r) => (r.result.status === 'ok' ? (r.result.recall ?? 0) : 0));

  return {
    mode,
    results: rows.length,
    failed: rows.length - ran.length,
    overall: countCorrect(rows),
    closed: countCorrect(closed),
    closedYesNo: countCorrect([...yesNo]),
    closedChoice: countCorrect(choice),
    openExact: countCorrect(open),
    openRecall: { mean: mean(recalls), items: open.length, fullRecall: recalls.filter((r) => r >= 1).length },
    byQuestionType: [...types.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([questionType, typed]) => ({ questionType, accuracy: countCorrect(typed) })),
    retrieval: retrievalStats(ran.map((r) => r.result)),
    cdir: cdirStats(ran.map((r) => r.result)),
    calibration: calibrationReport(
      ran.map((r) => ({ confidence: r.result.confidence?.used ?? null, correct: r.result.correct === true })),
      { binCount, source: ran.find((r) => r.result.confidence)?.result.confidence?.source ?? 'used' },
    ),
    calibrationBySource: (['first-token', 'option-mass'] as const).map((source) =>
      calibrationReport(
        ran.map((r) => ({
          confidence:
            (source === 'first-token' ? r.result.confidence?.firstToken : r.result.confidence?.optionMass) ?? null,
          correct: r.result.correct === true,
        })),
        { binCount, source },
      ),
    ),
    latency: latencySummary(ran.flatMap((r) => (r.result.latencyMs === null ? [] : [r.result.latencyMs]))),
  };
}

export function retrievalStats(results: readonly StoredResult[]): RetrievalStats {
  const histogram = new Map<number, number>();
  const sources = new Map<string, number>();
  let queriesTotal = 0;
  let hitsTotal = 0;
  for (const r of results) {
    histogram.set(r.rounds, (histogram.get(r.rounds) ?? 0) + 1);
    queriesTotal += r.queries.length;
    for (const q of r.queries) {
      hitsTotal += q.hitSources.length;
      for (const s of q.hitSources) sources.set(s, (sources.get(s) ?? 0) + 1);
    }
  }
  return {
    itemsWithQueries: proportion(results.filter((r) => r.queries.length > 0).length, results.length),
    queriesTotal,
    queriesPerItem: results.length > 0 ? queriesTotal / results.length : null,
    roundsMean: mean(results.map((r) => r.rounds)),
    roundsHistogram: [...histogram.entries()].sort(([a], [b]) => a - b).map(([rounds, items]) => ({ rounds, items })),
    hitsTotal,
    hitSources: [...sources.entries()]
      .sort(([sa, a], [sb, b]) => b - a || sa.localeCompare(sb))
      .map(([source, hits]) => ({ source, hits })),
  };
}

export function cdirStats(results: readonly StoredResult[]): CdirStats {
  const stats: CdirStats = {
    triggered: proportion(results.filter((r) => r.cdirTriggered).length, results.length),
    reattempted: 0,
    wrongToRight: 0,
    rightToWrong: 0,
    unchangedRight: 0,
    unchangedWrong: 0,
    answerChanged: 0,
  };
  for (const r of results) {
    if (!r.reattempted) continue;
    stats.reattempted++;
    const before = r.firstCorrect === true;
    const after = r.correct === true;
    if (!before && after) stats.wrongToRight++;
    else if (before && !after) stats.rightToWrong++;
    else if (before) stats.unchangedRight++;
    else stats.unchangedWrong++;
    if (normalizeAnswer(r.firstAnswer ?? '') !== normalizeAnswer(r.answer ?? '')) stats.answerChanged++;
  }
  return stats;
}

/** McNemar between two modes over the items both have a result for (a failed result counts as wrong). */
export function pairedComparison(
  modeA: ReasoningMode,
  modeB: ReasoningMode,
  results: readonly StoredResult[],
): PairedComparison {
  const a = new Map<number, boolean>();
  const b = new Map<number, boolean>();
  for (const r of results) {
    if (r.mode === modeA) a.set(r.itemIndex, isCorrect(r));
    if (r.mode === modeB) b.set(r.itemIndex, isCorrect(r));
  }
  let bothRight = 0;
  let onlyA = 0;
  let onlyB = 0;
  let bothWrong = 0;
  for (const [index, rightA] of a) {
    const rightB = b.get(index);
    if (rightB === undefined) continue;
    if (rightA && rightB) bothRight++;
    else if (rightA) onlyA++;
    else if (rightB) onlyB++;
    else bothWrong++;
  }
  return {
    modeA,
    modeB,
    pairs: bothRight + onlyA + onlyB + bothWrong,
    bothRight,
    onlyA,
    onlyB,
    bothWrong,
    ...mcnemar(onlyA, onlyB),
  };
}
