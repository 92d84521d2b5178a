import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DatasetProblem, EvalDatasetRef } from '../../../shared/contract';
import { AppError, InvalidInputError } from '../../errors/AppError';
import { normalizeAnswer } from '../scoring/normalizeAnswer';
import type { EvalImage, EvalItem, LoadedDataset } from './EvalItem';
import { ImageInspector } from './imageFiles';

/** A dataset row in the loaders' common shape, before its images are checked. */
interface RawRow {
  row: number;
  id: string | null;
  question: unknown;
  answer: unknown;
  answerType: unknown;
  choices: unknown;
  questionType: unknown;
  images: unknown[];
  meta: Record<string, unknown>;
}

class RowProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Loads a VQA-RAD (MEVF json), SLAKE json or generic JSONL dataset into items with checked, hashed images.
 * A bad row (no question, no answer, a missing or unsupported image, a duplicate id) is reported in `problems` and
 * left out; only an unreadable or unparsable file is fatal.
 */
export async function loadDataset(ref: EvalDatasetRef): Promise<LoadedDataset> {
  const path = resolve(ref.path);
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new AppError('DATASET_UNREADABLE', `dataset ${path}: expected a readable ${ref.format} file, found ${code}`);
  }
  const sha256 = createHash('sha256').update(text).digest('hex');
  const imagesDir = resolve(ref.imagesDir ?? defaultImagesDir(ref.format, path));
  const { rows, skipped } = parseRows(ref, path, text.toString('utf8'));

  const problems: DatasetProblem[] = [];
  const items: EvalItem[] = [];
  const seen = new Set<string>();
  const inspector = new ImageInspector();
  for (const raw of rows) {
    try {
      const item = await toItem(raw, imagesDir, inspector);
      if (seen.has(item.id)) throw new RowProblem('DUPLICATE_ID', `expected a unique id, found "${item.id}" again`);
      seen.add(item.id);
      items.push(item);
    } catch (error) {
      if (!(error instanceof RowProblem || error instanceof AppError)) throw error;
      problems.push({ row: raw.row, itemId: raw.id, code: error.code, message: error.message });
    }
  }
  return { format: ref.format, path, imagesDir, sha256, rows: rows.length, items, problems, skipped };
}

function defaultImagesDir(format: EvalDatasetRef['format'], path: string): string {
  if (format === 'vqa-rad') return join(dirname(path), 'images');
  if (format === 'slake') return join(dirname(path), 'imgs');
  return dirname(path);
}

function parseRows(
  ref: EvalDatasetRef,
  path: string,
  text: string,
): { rows: RawRow[]; skipped: { reason: string; rows: number }[] } {
  if (ref.format === 'jsonl') return { rows: parseJsonl(path, text), skipped: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `dataset ${path}`,
      `a JSON array (${ref.format})`,
      `invalid JSON (${(error as Error).message})`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new InvalidInputError(`dataset ${path}`, `a JSON array (${ref.format})`, typeof parsed);
  }
  if (ref.format === 'vqa-rad') return { rows: parsed.map((r: unknown, i) => vqaRadRow(r, i + 1)), skipped: [] };
  const language = ref.language ?? 'en';
  const rows: RawRow[] = [];
  let otherLanguage = 0;
  parsed.forEach((r: unknown, i) => {
    const record = asRecord(r);
    if (record && typeof record['q_lang'] === 'string' && record['q_lang'] !== language) otherLanguage++;
    else rows.push(slakeRow(r, i + 1));
  });
  return {
    rows,
    skipped: otherLanguage > 0 ? [{ reason: `question language is not "${language}"`, rows: otherLanguage }] : [],
  };
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function notARecord(row: number, value: unknown): RawRow {
  return {
    row,
    id: null,
    question: undefined,
    answer: undefined,
    answerType: undefined,
    choices: undefined,
    questionType: undefined,
    images: [],
    meta: { __invalid: Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value },
  };
}

/** MEVF layout: qid, image_name, question, answer, answer_type (CLOSED/OPEN), question_type, image_organ, phrase_type. */
function vqaRadRow(value: unknown, row: number): RawRow {
  const r = asRecord(value);
  if (!r) return notARecord(row, value);
  return {
    row,
    id: idOf(r['qid']),
    question: r['question'],
    answer: r['answer'],
    answerType: r['answer_type'],
    choices: undefined,
    questionType: r['question_type'],
    images: [r['image_name']],
    meta: { organ: r['image_organ'], phrase: r['phrase_type'] },
  };
}

/** SLAKE layout: qid, img_name (relative to imgs/), question, answer, answer_type, content_type, modality, location. */
function slakeRow(value: unknown, row: number): RawRow {
  const r = asRecord(value);
  if (!r) return notARecord(row, value);
  return {
    row,
    id: idOf(r['qid']),
    question: r['question'],
    answer: r['answer'],
    answerType: r['answer_type'],
    choices: undefined,
    questionType: r['content_type'],
    images: [r['img_name']],
    meta: { modality: r['modality'], location: r['location'], base: r['base_type'] },
  };
}

/** One JSON object per line: {id, image | images, question, choices?, answer, answer_type?, question_type?}. */
function parseJsonl(path: string, text: string): RawRow[] {
  const rows: RawRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const row = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      rows.push({ ...notARecord(row, undefined), meta: { __invalid: `invalid JSON (${(error as Error).message})` } });
      return;
    }
    const r = asRecord(value);
    if (!r) {
      rows.push(notARecord(row, value));
      return;
    }
    const images = Array.isArray(r['images'])
      ? (r['images'] as unknown[])
      : r['image'] !== undefined
        ? [r['image']]
        : [];
    rows.push({
      row,
      id: idOf(r['id']) ?? `line-${row}`,
      question: r['question'],
      answer: r['answer'],
      answerType: r['answer_type'] ?? r['answerType'],
      choices: r['choices'] ?? r['options'],
      questionType: r['question_type'] ?? r['questionType'],
      images,
      meta: { modality: r['modality'], organ: r['organ'] },
    });
  });
  if (rows.length === 0) throw new InvalidInputError(`dataset ${path}`, 'JSON lines', 'an empty file');
  return rows;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : `"${value}"`;
  return typeof value;
}

async function toItem(raw: RawRow, imagesDir: string, inspector: ImageInspector): Promise<EvalItem> {
  const invalid = raw.meta['__invalid'];
  if (typeof invalid === 'string') throw new RowProblem('ROW_INVALID', `expected a JSON object, found ${invalid}`);
  if (raw.id === null) throw new RowProblem('ROW_INVALID', 'expected an id (qid), found none');
  if (typeof raw.question !== 'string' || raw.question.trim() === '') {
    throw new RowProblem('ROW_INVALID', `expected a question, found ${describe(raw.question)}`);
  }
  const answer = typeof raw.answer === 'number' ? String(raw.answer) : raw.answer;
  if (typeof answer !== 'string' || normalizeAnswer(answer) === '') {
    throw new RowProblem('ROW_INVALID', `expected a reference answer, found ${describe(raw.answer)}`);
  }
  const choices = parseChoices(raw.choices);
  const answerType = parseAnswerType(raw.answerType, answer, choices);
  if (choices && !choices.some((c) => normalizeAnswer(c) === normalizeAnswer(answer))) {
    throw new RowProblem(
      'ROW_INVALID',
      `expected the answer among the choices [${choices.join(', ')}], found "${answer}"`,
    );
  }
  if (raw.images.length === 0) throw new RowProblem('ROW_INVALID', 'expected an image, found none');
  const images: EvalImage[] = [];
  for (const name of raw.images) {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new RowProblem('ROW_INVALID', `expected an image file name, found ${describe(name)}`);
    }
    images.push(await inspector.inspect(isAbsolute(name) ? name : join(imagesDir, name)));
  }
  const isYesNo = ['yes', 'no'].includes(normalizeAnswer(answer));
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.meta)) if (typeof v === 'string' && v.trim() !== '') meta[k] = v.trim();
  return {
    id: raw.id,
    row: raw.row,
    question: raw.question.trim(),
    answer: answer.trim(),
    answerType,
    choices: choices ?? (answerType === 'closed' && isYesNo ? ['yes', 'no'] : null),
    choicesSource: choices ? 'dataset' : answerType === 'closed' && isYesNo ? 'yes-no' : null,
    questionType:
      typeof raw.questionType === 'string' && raw.questionType.trim() !== '' ? raw.questionType.trim() : null,
    images,
    meta,
  };
}

function parseChoices(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.length >= 2 && value.every((c) => typeof c === 'string' && c.trim() !== '')) {
    return (value as string[]).map((c) => c.trim());
  }
  throw new RowProblem(
    'ROW_INVALID',
    `expected choices as an array of at least 2 strings, found ${JSON.stringify(value)}`,
  );
}

/** CLOSED/OPEN (any case, trailing spaces as in two VQA-RAD rows); JSONL without a type: closed when it has choices or a yes/no answer. */
function parseAnswerType(value: unknown, answer: string, choices: string[] | null): 'closed' | 'open' {
  if (typeof value === 'string') {
    const type = value.trim().toLowerCase();
    if (type === 'closed' || type === 'open') return type;
    throw new RowProblem('ROW_INVALID', `expected answer_type CLOSED or OPEN, found "${value}"`);
  }
  if (value !== undefined && value !== null) {
    throw new RowProblem('ROW_INVALID', `expected answer_type CLOSED or OPEN, found ${typeof value}`);
  }
  return choices || ['yes', 'no'].includes(normalizeAnswer(answer)) ? 'closed' : 'open';
}
