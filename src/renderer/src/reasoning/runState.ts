/**
 * The reasoning panel's model of one run, built only from the small typed events of the contract. Pure, so that the
 * same reducer drives live runs, replays of stored records and the unit tests.
 */
import type {
  ConfidenceReport,
  ErrorPayload,
  ReasoningEvent,
  ReasoningPhase,
  ReasoningResult,
  SearchHit,
  SegmentKind,
} from '../../../shared/contract';

export type CdirEvent = Extract<ReasoningEvent, { type: 'cdir' }>;

export type TranscriptBlock =
  | { type: 'text'; kind: SegmentKind; text: string }
  /** Where a retrieval round's passages entered the transcript; `query` is the model's query text when known. */
  | { type: 'round'; round: number; query?: string }
  /** Where the loop added the similar case and its consultation (CDIR) before the model reasoned again. */
  | { type: 'cdir' };

export interface RoundView {
  attempt: number;
  round: number;
  query: string;
  /** null while the search is running. */
  hits: SearchHit[] | null;
  lexicalOnly: boolean;
  /** Why nothing was searched or found (empty query, round limit, direct mode, no match). */
  reason: string | null;
}

export interface AnswerView {
  text: string;
  confidence: ConfidenceReport;
  kept: boolean;
}

export interface AttemptView {
  attempt: number;
  blocks: TranscriptBlock[];
  rounds: RoundView[];
  answer: AnswerView | null;
}

export type RunStatus = 'idle' | 'starting' | 'running' | 'completed' | 'cancelled' | 'failed';

export interface RunView {
  runId: string | null;
  status: RunStatus;
  phase: ReasoningPhase | null;
  attempts: AttemptView[];
  cdir: CdirEvent | null;
  result: ReasoningResult | null;
  error: ErrorPayload | null;
  /** Streamed deltas and characters (the service batches tokens into small deltas). */
  deltas: number;
  chars: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export const idleRun: RunView = {
  runId: null,
  status: 'idle',
  phase: null,
  attempts: [],
  cdir: null,
  result: null,
  error: null,
  deltas: 0,
  chars: 0,
  startedAt: null,
  finishedAt: null,
};

export function startingRun(now: number): RunView {
  return { ...idleRun, status: 'starting', startedAt: now };
}

export function startedRun(state: RunView, runId: string): RunView {
  // Another run's events came first (an evaluation streaming meanwhile) and were taken for this one's: drop them.
  if (state.runId !== null && state.runId !== runId) return { ...idleRun, runId, status: 'running', startedAt: state.startedAt };
  return { ...state, runId, status: state.status === 'starting' ? 'running' : state.status };
}

export function failedToStart(state: RunView, error: ErrorPayload, now: number): RunView {
  return { ...state, status: 'failed', error, finishedAt: now };
}

function withAttempt(state: RunView, attempt: number, update: (a: AttemptView) => AttemptView): RunView {
  const attempts = state.attempts.slice();
  let index = attempts.findIndex((a) => a.attempt === attempt);
  if (index < 0) {
    attempts.push({ attempt, blocks: [], rounds: [], answer: null });
    attempts.sort((a, b) => a.attempt - b.attempt);
    index = attempts.findIndex((a) => a.attempt === attempt);
  }
  attempts[index] = update(attempts[index]!);
  return { ...state, attempts };
}

function appendText(blocks: TranscriptBlock[], kind: SegmentKind, text: string): TranscriptBlock[] {
  const last = blocks[blocks.length - 1];
  if (last && last.type === 'text' && last.kind === kind) {
    const next = blocks.slice();
    next[next.length - 1] = { type: 'text', kind, text: last.text + text };
    return next;
  }
  return [...blocks, { type: 'text', kind, text }];
}

const terminal = (status: RunStatus): boolean => status === 'completed' || status === 'cancelled' || status === 'failed';

/**
 * Applies one event. Events of another run are ignored, and so is everything before this view started a run (other
 * panels' runs, evaluations, replays); nothing changes a run after it has ended.
 */
export function applyEvent(state: RunView, event: ReasoningEvent, now: number): RunView {
  if (state.runId !== null && event.runId !== state.runId) return state;
  if (state.status === 'idle' || terminal(state.status)) return state;
  const s: RunView = state.status === 'starting' ? { ...state, status: 'running', runId: event.runId } : state;
  switch (event.type) {
    case 'phase':
      return { ...s, phase: event.phase };
    case 'token':
      return {
        ...withAttempt(s, event.attempt, (a) => ({ ...a, blocks: appendText(a.blocks, event.segment, event.text) })),
        deltas: s.deltas + 1,
        chars: s.chars + event.text.length,
      };
    case 'query':
      return withAttempt(s, event.attempt, (a) =>
        a.rounds.some((r) => r.round === event.round)
          ? a
          : {
              ...a,
              rounds: [
                ...a.rounds,
                { attempt: event.attempt, round: event.round, query: event.query, hits: null, lexicalOnly: false, reason: null },
              ],
            },
      );
    case 'hits':
      return withAttempt(s, event.attempt, (a) => {
        const round: RoundView = {
          attempt: event.attempt,
          round: event.round,
          query: event.query,
          hits: event.hits,
          lexicalOnly: event.lexicalOnly,
          reason: event.reason ?? null,
        };
        const exists = a.rounds.some((r) => r.round === event.round);
        return {
          ...a,
          rounds: exists ? a.rounds.map((r) => (r.round === event.round ? round : r)) : [...a.rounds, round],
          blocks: [...a.blocks, { type: 'round', round: event.round, query: event.query }],
        };
      });
    case 'cdir': {
      if (event.triggered === false || (event.triggered === undefined && !event.similarCase)) return { ...s, cdir: event };
      // The attempt after the judged one opens with the similar case the loop added.
      const next = event.attempt + 1;
      return withAttempt({ ...s, cdir: event }, next, (a) => (a.blocks.length === 0 ? { ...a, blocks: [{ type: 'cdir' }] } : a));
    }
    case 'answer': {
      const next = withAttempt(s, event.attempt, (a) => ({
        ...a,
        answer: { text: event.answer, confidence: event.confidence, kept: event.kept },
      }));
      // Only one attempt is kept: a later kept answer supersedes an earlier one.
      if (!event.kept) return next;
      return {
        ...next,
        attempts: next.attempts.map((a) =>
          a.attempt !== event.attempt && a.answer?.kept ? { ...a, answer: { ...a.answer, kept: false } } : a,
        ),
      };
    }
    case 'done': {
      const kept = event.result.keptAttempt;
      // The result's keptAttempt is final; answers sent before it were provisional.
      const attempts = s.attempts.map((a) =>
        a.answer && a.answer.kept !== (a.attempt === kept) ? { ...a, answer: { ...a.answer, kept: a.attempt === kept } } : a,
      );
      return { ...s, attempts, status: 'completed', phase: 'finished', result: event.result, finishedAt: now };
    }
    case 'cancelled':
      return { ...s, status: 'cancelled', finishedAt: now };
    case 'failed':
      return { ...s, status: 'failed', error: event.error, finishedAt: now };
  }
}

export function applyEvents(state: RunView, events: readonly ReasoningEvent[], now: number): RunView {
  let next = state;
  for (const event of events) next = applyEvent(next, event, now);
  return next;
}

/** The answer to show: the kept one, else the latest. */
export function finalAnswer(state: RunView): (AnswerView & { attempt: number }) | null {
  let latest: (AnswerView & { attempt: number }) | null = null;
  for (const a of state.attempts) {
    if (!a.answer) continue;
    if (a.answer.kept) return { ...a.answer, attempt: a.attempt };
    latest = { ...a.answer, attempt: a.attempt };
  }
  return latest;
}

export function isActive(state: RunView): boolean {
  return state.status === 'starting' || state.status === 'running';
}

export const phaseLabels: Record<ReasoningPhase, string> = {
  preparing: 'Preparing image and prompt',
  'waiting-for-knowledge': 'Building knowledge base… (the run starts when it is ready)',
  thinking: 'Thinking',
  retrieving: 'Retrieving knowledge',
  answering: 'Answering',
  cdir: 'Re-reasoning with a similar case (CDIR)',
  finished: 'Finished',
};
