import { describe, expect, it } from 'vitest';
import type { ConfidenceReport, ReasoningMode } from '../../../shared/contract';
import type { EvalItem } from '../datasets/EvalItem';
import type { StoredResult } from '../EvalStore';
import { computeMetrics } from './computeMetrics';

function item(index: number, answer: string, answerType: 'closed' | 'open', questionType: string): EvalItem {
  return {
    id: `q${index}`,
    row: index + 1,
    question: `question ${index}?`,
    answer,
    answerType,
    choices: null,
    choicesSource: null,
    questionType,
    images: [],
    meta: {},
  };
}

const confidence = (used: number): ConfidenceReport => ({
  firstToken: used,
  optionMass: null,
  sampled: 1,
  used,
  source: 'first-token',
});

function result(itemIndex: number, mode: ReasoningMode, fields: Partial<StoredResult>): StoredResult {
  return {
    itemIndex,
    mode,
    status: 'ok',
    answer: 'x',
    correct: false,
    recall: null,
    rule: null,
    confidence: confidence(0.5),
    firstAnswer: null,
    firstCorrect: null,
    cdirTriggered: false,
    reattempted: false,
    similarCase: null,
    queries: [],
    rounds: 0,
    latencyMs: 100,
    timings: null,
    endReason: 'answer',
    auditRunId: null,
    error: null,
    recordedAt: '2026-01-01T00:00:00Z',
    ...fields,
  };
}

const items = [
  item(0, 'yes', 'closed', 'PRES'),
  item(1, 'no', 'closed', 'PRES'),
  item(2, 'left', 'closed', 'POS'),
  item(3, 'brain', 'open', 'ORGAN'),
  item(4, 'left temporal lobe', 'open', 'POS'),
];

const results: StoredResult[] = [
  result(0, 'direct', { correct: true, confidence: confidence(0.9), latencyMs: 100 }),
  result(1, 'direct', { correct: false, confidence: confidence(0.6), latencyMs: 200 }),
  result(2, 'direct', {
    status: 'failed',
    answer: null,
    correct: null,
    confidence: null,
    latencyMs: null,
    error: { code: 'X', message: 'x' },
  }),
  result(3, 'direct', { correct: true, recall: 1, confidence: confidence(0.8), latencyMs: 300 }),
  result(4, 'direct', { correct: false, recall: 2 / 3, confidence: confidence(0.4), latencyMs: 400 }),
  result(0, 'rwr+cdir', {
    correct: true,
    confidence: confidence(0.95),
    rounds: 2,
    queries: [
      { round: 1, query: 'a', hitSources: ['A', 'A', 'B'], hitIds: [1, 2, 3] },
      { round: 2, query: 'b', hitSources: ['A'], hitIds: [4] },
    ],
  }),
  result(1, 'rwr+cdir', {
    answer: 'no',
    correct: true,
    cdirTriggered: true,
    reattempted: true,
    firstAnswer: 'yes',
    firstCorrect: false,
  }),
  result(2, 'rwr+cdir', {
    answer: 'right',
    correct: false,
    cdirTriggered: true,
    reattempted: true,
    firstAnswer: 'left',
    firstCorrect: true,
  }),
  result(3, 'rwr+cdir', { correct: true, recall: 1, cdirTriggered: true }),
  result(4, 'rwr+cdir', { correct: false, recall: 1 / 3 }),
];

describe('computeMetrics', () => {
  const metrics = computeMetrics(items, results, ['direct', 'rwr+cdir']);
  const direct = metrics.modes[0]!;
  const cdir = metrics.modes[1]!;

  it('counts accuracy per answer type, with failed results as wrong', () => {
    expect(direct).toMatchObject({ mode: 'direct', results: 5, failed: 1 });
    expect(direct.overall).toMatchObject({ count: 2, total: 5, rate: 0.4 });
    expect(direct.closed).toMatchObject({ count: 1, total: 3 });
    expect(direct.closedYesNo).toMatchObject({ count: 1, total: 2 });
    expect(direct.closedChoice).toMatchObject({ count: 0, total: 1 });
    expect(direct.openExact).toMatchObject({ count: 1, total: 2 });
    expect(direct.openRecall.mean).toBeCloseTo(5 / 6, 12);
    expect(direct.openRecall).toMatchObject({ items: 2, fullRecall: 1 });
    expect(direct.byQuestionType.map((t) => [t.questionType, t.accuracy.count, t.accuracy.total])).toEqual([
      ['ORGAN', 1, 1],
      ['POS', 0, 2],
      ['PRES', 1, 2],
    ]);
    expect(cdir.overall).toMatchObject({ count: 3, total: 5 });
  });

  it('summarises latency over the results that ran', () => {
    expect(direct.latency).toMatchObject({
      items: 4,
      meanMs: 250,
      medianMs: 250,
      minMs: 100,
      maxMs: 400,
      totalMs: 1000,
    });
  });

  it('summarises retrieval: queries per item, rounds and hit sources', () => {
    expect(direct.retrieval).toMatchObject({ queriesTotal: 0, hitsTotal: 0, hitSources: [] });
    expect(cdir.retrieval).toMatchObject({
      queriesTotal: 2,
      queriesPerItem: 0.4,
      roundsMean: 0.4,
      roundsHistogram: [
        { rounds: 0, items: 4 },
        { rounds: 2, items: 1 },
      ],
      hitsTotal: 4,
      hitSources: [
        { source: 'A', hits: 3 },
        { source: 'B', hits: 1 },
      ],
    });
    expect(cdir.retrieval.itemsWithQueries).toMatchObject({ count: 1, total: 5 });
  });

  it('counts CDIR triggers and flips', () => {
    expect(cdir.cdir.triggered).toMatchObject({ count: 3, total: 5 });
    expect(cdir.cdir).toMatchObject({
      reattempted: 2,
      wrongToRight: 1,
      rightToWrong: 1,
      unchangedRight: 0,
      unchangedWrong: 0,
      answerChanged: 2,
    });
    expect(direct.cdir.triggered).toMatchObject({ count: 0, total: 4 });
  });

  it('bins confidence for calibration over the results that ran', () => {
    expect(direct.calibration).toMatchObject({ items: 4, missing: 0, confidenceSource: 'first-token' });
    // bins: 0.4 ✗ (0.3,0.4], 0.6 ✗ (0.5,0.6], 0.8 ✓ (0.7,0.8], 0.9 ✓ (0.8,0.9] → ECE = (0.4 + 0.6 + 0.2 + 0.1)/4.
    expect(direct.calibration.ece).toBeCloseTo(1.3 / 4, 12);
    const [firstToken, optionMass] = direct.calibrationBySource;
    expect(firstToken).toMatchObject({ confidenceSource: 'first-token', items: 4, missing: 0 });
    expect(firstToken!.ece).toBeCloseTo(1.3 / 4, 12);
    expect(optionMass).toMatchObject({ confidenceSource: 'option-mass', items: 0, missing: 4, ece: null });
  });

  it('pairs the modes item by item for McNemar', () => {
    expect(metrics.paired).toEqual([
      {
        modeA: 'direct',
        modeB: 'rwr+cdir',
        pairs: 5,
        bothRight: 2,
        onlyA: 0,
        onlyB: 1,
        bothWrong: 2,
        method: 'exact-binomial',
        statistic: 0,
        pValue: 1,
      },
    ]);
    expect(metrics.scoring.length).toBeGreaterThan(3);
  });
});
