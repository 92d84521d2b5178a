import { describe, expect, it } from 'vitest';
import type { ConfidenceReport, ReasoningEvent, RunRecord, SearchHit } from '../../../shared/contract';
import { recordEvents, runViewFromRecord, splitTranscript } from './recordView';
import { applyEvents, finalAnswer, idleRun, startedRun, startingRun } from './runState';

const confidence = (used: number): ConfidenceReport => ({
  firstToken: used,
  optionMass: null,
  sampled: 1,
  used,
  source: 'first-token',
});

const hit = (passageId: number): SearchHit => ({
  passageId,
  rank: 1,
  score: 0.5,
  lexicalScore: 3.2,
  vectorScore: null,
  rerankScore: null,
  title: `Passage ${passageId}`,
  text: 'full text',
  snippet: 'snippet',
  provenance: {
    sourceId: 1,
    sourceTitle: 'MedQuAD',
    sourceFile: 'medquad.xml',
    license: 'CC BY 4.0',
    attribution: null,
    documentId: null,
    url: null,
    section: ['Glaucoma', 'Symptoms'],
    page: null,
    charStart: 0,
    charEnd: 10,
  },
});

const tokens = (runId: string, segment: 'think' | 'query' | 'answer', text: string, attempt = 1): ReasoningEvent[] =>
  text.split(/(?<= )/).map((t) => ({ runId, type: 'token', segment, text: t, attempt }));

describe('applyEvents', () => {
  it('folds a streamed RwR run with CDIR into attempts, rounds, a kept answer and a completed status', () => {
    let state = startedRun(startingRun(0), 'r1');
    const events: ReasoningEvent[] = [
      { runId: 'r1', type: 'phase', phase: 'thinking', attempt: 1 },
      ...tokens('r1', 'think', 'the optic disc looks cupped '),
      ...tokens('r1', 'query', 'glaucoma cup to disc ratio'),
      { runId: 'r1', type: 'query', round: 1, query: 'glaucoma cup to disc ratio', attempt: 1 },
      { runId: 'r1', type: 'hits', round: 1, query: 'glaucoma cup to disc ratio', hits: [hit(7)], lexicalOnly: true, attempt: 1 },
      ...tokens('r1', 'answer', 'yes'),
      { runId: 'r1', type: 'answer', answer: 'yes', confidence: confidence(0.4), attempt: 1, kept: true },
      { runId: 'r1', type: 'cdir', attempt: 1, confidence: 0.4, threshold: 0.9, triggered: true, similarCase: null, reason: 'low confidence' },
      ...tokens('r1', 'answer', 'no', 2),
      { runId: 'r1', type: 'answer', answer: 'no', confidence: confidence(0.95), attempt: 2, kept: true },
      { runId: 'other', type: 'token', segment: 'think', text: 'IGNORED', attempt: 1 },
    ];
    state = applyEvents(state, events, 5);
    expect(state.status).toBe('running');
    expect(state.deltas).toBe(5 + 5 + 1 + 1);
    expect(state.chars).toBe('the optic disc looks cupped glaucoma cup to disc ratioyesno'.length);
    expect(state.attempts).toHaveLength(2);
    const first = state.attempts[0]!;
    expect(first.blocks.map((b) => (b.type === 'text' ? `${b.kind}:${b.text}` : b.type === 'round' ? `round:${b.round}` : b.type))).toEqual([
      'think:the optic disc looks cupped ',
      'query:glaucoma cup to disc ratio',
      'round:1',
      'answer:yes',
    ]);
    expect(first.rounds[0]?.hits?.[0]?.passageId).toBe(7);
    expect(first.answer?.kept).toBe(false);
    expect(state.cdir?.threshold).toBe(0.9);
    expect(state.attempts[1]?.blocks[0]).toEqual({ type: 'cdir' });
    expect(finalAnswer(state)).toMatchObject({ text: 'no', attempt: 2 });
    expect(JSON.stringify(state)).not.toContain('IGNORED');

    state = applyEvents(state, [{ runId: 'r1', type: 'cancelled' }], 9);
    expect(state.status).toBe('cancelled');
    expect(state.finishedAt).toBe(9);
    expect(applyEvents(state, tokens('r1', 'think', 'late '), 10)).toBe(state);
  });

  it('opens the CDIR turn in the attempt after the judged one, whatever attempts the panel has seen', () => {
    const cdir = (attempt: number): ReasoningEvent => ({
      runId: 'r4',
      type: 'cdir',
      attempt,
      confidence: 0.2,
      threshold: 0.9,
      triggered: true,
      similarCase: null,
      reason: 'low confidence',
    });
    // A panel that joined late (no token of attempt 1 seen) still files the CDIR turn under attempt 2.
    const late = applyEvents(startedRun(startingRun(0), 'r4'), [cdir(1)], 1);
    expect(late.attempts.map((a) => [a.attempt, a.blocks])).toEqual([[2, [{ type: 'cdir' }]]]);
    const after = applyEvents(late, tokens('r4', 'think', 'again ', 2), 2);
    expect(after.attempts).toHaveLength(1);
    expect(after.attempts[0]!.blocks).toEqual([{ type: 'cdir' }, { type: 'text', kind: 'think', text: 'again ' }]);
    // A decision that does not re-reason opens nothing.
    const notNeeded = applyEvents(startedRun(startingRun(0), 'r4'), [{ ...cdir(1), triggered: false } as ReasoningEvent], 1);
    expect(notNeeded.attempts).toHaveLength(0);
    expect(notNeeded.cdir?.attempt).toBe(1);
  });

  it('keeps a query chip pending until its hits arrive', () => {
    const state = applyEvents(
      startedRun(startingRun(0), 'r2'),
      [{ runId: 'r2', type: 'query', round: 1, query: 'q', attempt: 1 }],
      1,
    );
    expect(state.attempts[0]?.rounds[0]?.hits).toBeNull();
  });

  it('adopts the run id of the first event when the reply to ask has not arrived yet', () => {
    const state = applyEvents(startingRun(0), tokens('r3', 'think', 'early '), 1);
    expect(state.runId).toBe('r3');
    expect(state.status).toBe('running');
    expect(idleRun.status).toBe('idle');
  });

  it('ignores the runs of others (an evaluation, a replay in History) while it has started none', () => {
    const others: ReasoningEvent[] = [
      ...tokens('eval-item', 'think', 'someone else '),
      { runId: 'eval-item', type: 'done', result: { runId: 'eval-item' } as never },
    ];
    expect(applyEvents(idleRun, others, 1)).toBe(idleRun);
    // Taken for this run's before the reply named it: dropped when the reply comes.
    const mistaken = applyEvents(startingRun(0), tokens('eval-item', 'think', 'someone else '), 1);
    expect(mistaken.runId).toBe('eval-item');
    const mine = startedRun(mistaken, 'mine');
    expect(mine).toMatchObject({ runId: 'mine', status: 'running', attempts: [], chars: 0, startedAt: 0 });
    expect(applyEvents(mine, tokens('mine', 'think', 'mine '), 2).chars).toBe(5);
  });
});

describe('splitTranscript', () => {
  it('splits tags tolerantly and marks retrieval rounds without showing retrieved text as model output', () => {
    const blocks = splitTranscript(
      'intro <THINK>look</ think><query>q1</query><retrieve>(1) passage</retrieve><think>more<answer>A</answer>',
    );
    expect(blocks).toEqual([
      { type: 'text', kind: 'other', text: 'intro ' },
      { type: 'text', kind: 'think', text: 'look' },
      { type: 'text', kind: 'query', text: 'q1' },
      { type: 'round', round: 1, query: 'q1' },
      { type: 'text', kind: 'think', text: 'more' },
      { type: 'text', kind: 'answer', text: 'A' },
    ]);
  });
});

describe('stripTemplatePrefix', () => {
  it('drops the chat template turn markup but keeps what the model wrote, tags or not', async () => {
    const { stripTemplatePrefix } = await import('./recordView');
    expect(stripTemplatePrefix('</s><s>assistant: <think>a</think>')).toBe('<think>a</think>');
    expect(stripTemplatePrefix('<|im_end|>\n<|im_start|>assistant\nThe image shows')).toBe('The image shows');
    expect(stripTemplatePrefix('</s><s>assistant: free text')).toBe('free text');
  });
});

describe('runViewFromRecord', () => {
  const prompt =
    '<s>system: Think inside <think> </think>, ask with <query> </query>, answer in <answer> </answer>.</s><s>user: <__media__>\nIs there a pneumothorax?</s><s>assistant: ';
  const firstPart = '<think>a</think><query>q</query><retrieve> (1) x </retrieve>\n';
  const attempt1 = `${prompt}${firstPart}<think>sure</think><answer>yes</answer>`;
  const attempt2 =
    `${prompt}${firstPart}<think> I need a similar case </think>\n<query> consultation from similar medical imaging case </query>\n` +
    '<retrieve> <__media__> consultation text </retrieve>\n<think>b</think><answer>no</answer>';
  const record = {
    runId: 'h1',
    startedAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:00:01.200Z',
    question: 'Is there a pneumothorax?',
    answer: 'no',
    confidence: 0.95,
    mode: 'rwr+cdir',
    cdirTriggered: true,
    status: 'completed',
    studyInstanceUid: '1.2.3',
    replayOf: null,
    choices: ['yes', 'no'],
    sopInstanceUid: '1.2.3.4',
    frame: 0,
    imageSha256: 'ab',
    imageMime: 'image/png',
    window: { center: 40, width: 400 },
    attempts: [
      {
        attempt: 1,
        transcript: attempt1,
        queries: [{ round: 1, query: 'q', status: 'served', hits: [hit(3)], passages: ['x'], lexicalOnly: true, tookMs: 2 }],
        answer: 'yes',
        confidence: confidence(0.3),
        kept: false,
      },
      { attempt: 2, transcript: attempt2, queries: [], answer: 'no', confidence: confidence(0.95), kept: true },
    ],
    keptAttempt: 2,
    similarCase: null,
    cdir: { decision: 're-reasoned', confidence: 0.3, threshold: 0.9, reason: 'confidence 0.300 < threshold 0.9', caseImageSha256: 'cd', placement: 'rewound' },
    settings: { reasoning: { cdirThreshold: 0.9, confidenceSource: 'first-token' } },
    models: { reasoner: null, mmproj: null, embedding: null, knowledgeBase: null },
    modelNames: { reasoner: null, mmproj: null },
    seed: 1,
    timings: { totalMs: 1200, modelMs: 1000, retrievalMs: 20 },
    endReason: 'answered',
    error: null,
  } as unknown as RunRecord;

  it('shows only what each attempt wrote, maps rounds to their query records and skips the CDIR turn', () => {
    const view = runViewFromRecord(record);
    expect(view.status).toBe('completed');
    expect(view.attempts).toHaveLength(2);
    const first = view.attempts[0]!;
    expect(first.blocks[0]).toEqual({ type: 'text', kind: 'think', text: 'a' });
    expect(JSON.stringify(first.blocks)).not.toContain('system');
    expect(first.rounds[0]?.hits?.[0]?.passageId).toBe(3);
    expect(first.rounds[0]?.lexicalOnly).toBe(true);
    const second = view.attempts[1]!;
    expect(second.rounds).toHaveLength(0);
    expect(second.blocks[0]).toEqual({ type: 'cdir' });
    expect(JSON.stringify(second.blocks)).not.toContain('I need a similar case');
    expect(second.blocks.filter((b) => b.type === 'text' && b.kind === 'answer')).toEqual([{ type: 'text', kind: 'answer', text: 'no' }]);
    expect(view.cdir?.confidence).toBe(0.3);
    expect(view.cdir?.triggered).toBe(true);
    expect(finalAnswer(view)).toMatchObject({ text: 'no', attempt: 2 });
    expect(view.attempts[0]?.answer?.kept).toBe(false);
    expect(view.finishedAt! - view.startedAt!).toBe(1200);
    expect(recordEvents(record).filter((e) => e.type === 'answer')).toHaveLength(2);
  });
});

describe('chunkText', () => {
  it('cuts long text at sentence ends into chunks that stay stable as the text grows', async () => {
    const { chunkText } = await import('./TranscriptView');
    const text = 'The liver is normal in size. '.repeat(100);
    const chunks = chunkText(text);
    expect(chunks.join('')).toBe(text);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(600);
      expect(chunk.endsWith('.')).toBe(true);
    }
    const grown = chunkText(text + 'More text is streaming in now');
    expect(grown.slice(0, chunks.length - 1)).toEqual(chunks.slice(0, -1));
    expect(chunkText('short')).toEqual(['short']);
  });
});
