/**
 * Turns a stored audit record (history) into the same RunView the live panel shows, so a past run reads exactly like
 * it did while streaming: transcript segments, retrieval rounds with their hits, the CDIR decision, the answer.
 */
import type { QueryRecord, ReasoningEvent, ReasoningResult, RunRecord, SegmentKind } from '../../../shared/contract';
import { applyEvents, idleRun, type RunView, type TranscriptBlock } from './runState';

const tagPattern = /<\s*(\/?)\s*(think|query|retrieve|answer)\s*>/gi;

/** Med-RwR's fixed query of the similar-case turn; its `<retrieve>` holds the case, not knowledge passages. */
export const cdirQuery = 'consultation from similar medical imaging case';

const normalise = (text: string): string => text.replace(/["“”]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * Splits a Med-RwR transcript into display blocks. Tolerant like the live parser: case and whitespace variants,
 * unclosed tags (the rest belongs to the open segment), and stray closing tags (ignored). Retrieved text is not
 * shown as model output: a round block stands for it, carrying the query that asked for it.
 */
export function splitTranscript(transcript: string): TranscriptBlock[] {
  const blocks: TranscriptBlock[] = [];
  let open: 'think' | 'query' | 'retrieve' | 'answer' | null = null;
  let cursor = 0;
  let round = 0;
  let lastQuery: string | undefined;
  const emit = (text: string): void => {
    if (!text || open === 'retrieve') return;
    const kind: SegmentKind = open ?? 'other';
    if (kind === 'other' && !text.trim()) return;
    const last = blocks[blocks.length - 1];
    if (last && last.type === 'text' && last.kind === kind) last.text += text;
    else blocks.push({ type: 'text', kind, text });
  };
  for (const match of transcript.matchAll(tagPattern)) {
    emit(transcript.slice(cursor, match.index));
    cursor = match.index + match[0].length;
    const closing = match[1] === '/';
    const tag = match[2]!.toLowerCase() as 'think' | 'query' | 'retrieve' | 'answer';
    if (!closing) {
      if (open === 'query') lastQuery = undefined;
      open = tag;
      if (tag === 'retrieve') {
        blocks.push(lastQuery === undefined ? { type: 'round', round: ++round } : { type: 'round', round: ++round, query: lastQuery });
        lastQuery = undefined;
      }
    } else if (open === tag) {
      if (tag === 'query') {
        const last = blocks[blocks.length - 1];
        lastQuery = last && last.type === 'text' && last.kind === 'query' ? last.text.trim() : '';
      }
      open = null;
    }
  }
  emit(transcript.slice(cursor));
  return blocks;
}

const escapeLikeTranscript = (text: string): string => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The part of an attempt's transcript the model wrote in that attempt. The stored transcript is everything the
 * model read and wrote (prompt included, whose instructions name the tags), so attempt 1 starts after the
 * question and a later attempt after the prefix it shares with the one before.
 */
export function attemptText(record: RunRecord, index: number): string {
  const transcript = record.attempts[index]?.transcript ?? '';
  if (index === 0) {
    const at = transcript.lastIndexOf(escapeLikeTranscript(record.question));
    return at >= 0 ? transcript.slice(at + escapeLikeTranscript(record.question).length) : transcript;
  }
  const previous = record.attempts[index - 1]?.transcript ?? '';
  let shared = 0;
  while (shared < previous.length && shared < transcript.length && previous[shared] === transcript[shared]) shared++;
  return transcript.slice(shared);
}

/** Chat-template markup that ends the user turn and opens the assistant's (`</s><s>assistant: `, `<|im_start|>assistant`). */
const templatePrefix = /^(?:\s+|<\/?s>|<\|[a-z_]+\|>|<\/?(?:start_of_turn|end_of_turn)>|(?:assistant|model)\b\s*:?)/i;

export function stripTemplatePrefix(text: string): string {
  let rest = text;
  for (let match = templatePrefix.exec(rest); match && match[0].length > 0; match = templatePrefix.exec(rest)) {
    rest = rest.slice(match[0].length);
  }
  return rest;
}

/** Blocks to show for an attempt: the chat template's turn markup before the model's own text is left out. */
function attemptBlocks(record: RunRecord, index: number): TranscriptBlock[] {
  const text = attemptText(record, index);
  const blocks = splitTranscript(index === 0 ? stripTemplatePrefix(text) : text);
  // A later attempt opens with the turn the loop wrote for CDIR (its think, query and the case): not model output.
  const turn = blocks.findIndex((b) => b.type === 'round' && b.query !== undefined && normalise(b.query) === cdirQuery);
  return index > 0 && turn >= 0 ? [{ type: 'cdir' }, ...blocks.slice(turn + 1)] : blocks;
}

function hitsEvent(runId: string, attempt: number, q: QueryRecord): ReasoningEvent {
  return {
    runId,
    type: 'hits',
    round: q.round,
    query: q.query,
    hits: q.hits,
    lexicalOnly: q.lexicalOnly,
    attempt,
    ...(q.status === 'served' ? {} : { reason: q.status }),
  };
}

/** The events a record stands for, in the order a live run would have sent them (also used for animated replay). */
export function recordEvents(record: RunRecord): ReasoningEvent[] {
  const runId = record.runId;
  const events: ReasoningEvent[] = [];
  record.attempts.forEach((attempt, index) => {
    const queries = [...attempt.queries].sort((a, b) => a.round - b.round);
    let next = 0;
    for (const block of attemptBlocks(record, index)) {
      if (block.type === 'cdir') continue;
      if (block.type === 'round') {
        if (block.query !== undefined && normalise(block.query) === cdirQuery) continue;
        const q = queries[next++];
        if (!q) continue;
        events.push({ runId, type: 'query', round: q.round, query: q.query, attempt: attempt.attempt });
        events.push(hitsEvent(runId, attempt.attempt, q));
      } else {
        // Word-sized pieces, so that an animated replay looks like the stream it came from.
        for (const piece of block.text.match(/\s*\S+|\s+$/g) ?? [block.text]) {
          events.push({ runId, type: 'token', segment: block.kind, text: piece, attempt: attempt.attempt });
        }
      }
    }
    // Queries with no `<retrieve>` in the transcript (a cancelled round) still belong to the record.
    for (const q of queries.slice(next)) {
      events.push({ runId, type: 'query', round: q.round, query: q.query, attempt: attempt.attempt });
      events.push(hitsEvent(runId, attempt.attempt, q));
    }
    if (attempt.answer !== null) {
      events.push({ runId, type: 'answer', answer: attempt.answer, confidence: attempt.confidence, attempt: attempt.attempt, kept: attempt.kept });
    }
    if (index === 0 && record.cdir.decision !== 'disabled') {
      events.push({
        runId,
        type: 'cdir',
        attempt: attempt.attempt,
        confidence: record.cdir.confidence ?? 0,
        threshold: record.cdir.threshold,
        triggered: record.cdir.decision === 're-reasoned',
        similarCase: record.similarCase ? { ...record.similarCase, thumbnailRef: `case-image:${record.similarCase.imageId}` } : null,
        reason: record.cdir.reason,
      });
    }
  });
  return events;
}

export function resultOfRecord(record: RunRecord): ReasoningResult {
  const kept = record.attempts.find((a) => a.attempt === record.keptAttempt) ?? record.attempts[record.attempts.length - 1];
  return {
    runId: record.runId,
    answer: record.answer,
    confidence: kept?.confidence ?? { firstToken: null, optionMass: null, sampled: null, used: record.confidence, source: record.settings.reasoning.confidenceSource },
    mode: record.mode,
    rounds: record.attempts.reduce((n, a) => n + a.queries.filter((q) => q.status === 'served').length, 0),
    cdirTriggered: record.cdirTriggered,
    keptAttempt: record.keptAttempt,
    attempts: record.attempts.length,
    endReason: record.endReason,
    timings: record.timings,
  };
}

/** The finished view of a stored run. */
export function runViewFromRecord(record: RunRecord): RunView {
  const started = Date.parse(record.startedAt);
  const base: RunView = { ...idleRun, runId: record.runId, status: 'running', startedAt: started };
  const view = applyEvents(base, recordEvents(record), started);
  const finishedAt = record.finishedAt ? Date.parse(record.finishedAt) : started + record.timings.totalMs;
  const result = resultOfRecord(record);
  if (record.status === 'completed') return applyEvents(view, [{ runId: record.runId, type: 'done', result }], finishedAt);
  if (record.status === 'cancelled') return { ...view, status: 'cancelled', result, finishedAt };
  return { ...view, status: 'failed', result, finishedAt, error: record.error ?? { code: 'RUN_FAILED', message: record.endReason } };
}
