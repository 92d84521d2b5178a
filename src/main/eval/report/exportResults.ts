import type { EvalItemResult } from '../../../shared/contract';

export const csvColumns = [
  'item_index',
  'item_id',
  'mode',
  'answer_type',
  'question_type',
  'question',
  'reference',
  'status',
  'answer',
  'correct',
  'recall',
  'confidence_used',
  'confidence_first_token',
  'confidence_option_mass',
  'confidence_source',
  'cdir_triggered',
  'first_answer',
  'rounds',
  'queries',
  'latency_ms',
  'error_code',
  'error_message',
  'audit_run_id',
] as const;

/** RFC 4180: quote when needed, double the quotes; a leading =+-@ is prefixed with ' so spreadsheets do not run it. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Per-item results as CSV, one row per (item, mode), with a header row. */
export function resultsCsv(results: readonly EvalItemResult[]): string {
  const rows = results.map((r) =>
    [
      r.itemIndex,
      r.itemId,
      r.mode,
      r.answerType,
      r.questionType,
      r.question,
      r.reference,
      r.status,
      r.answer,
      r.correct,
      r.recall,
      r.confidence?.used ?? null,
      r.confidence?.firstToken ?? null,
      r.confidence?.optionMass ?? null,
      r.confidence?.source ?? null,
      r.cdirTriggered,
      r.firstAnswer,
      r.rounds,
      r.queries.join(' | '),
      r.latencyMs === null ? null : Math.round(r.latencyMs * 10) / 10,
      r.error?.code ?? null,
      r.error?.message ?? null,
      r.auditRunId,
    ]
      .map(csvCell)
      .join(','),
  );
  return [csvColumns.join(','), ...rows].join('\r\n') + '\r\n';
}

/** Per-item results as JSON lines, one object per (item, mode). */
export function resultsJsonl(results: readonly EvalItemResult[]): string {
  return results.map((r) => JSON.stringify(r)).join('\n') + (results.length > 0 ? '\n' : '');
}
