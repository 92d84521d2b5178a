import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, InvalidInputError } from '../../errors/AppError';
import { parseCsv } from '../../knowledge/cases/csv';

export interface JudgedDocument {
  id: string;
  title: string;
  text: string;
}

export interface JudgedQuery {
  id: string;
  text: string;
}

/** A retrieval test collection: documents, queries and graded judgments (qrels). */
export interface JudgedSet {
  name: string;
  documents: JudgedDocument[];
  queries: JudgedQuery[];
  /** qrels.get(queryId).get(documentId) = gain (0: judged not relevant). Unjudged documents count as gain 0. */
  qrels: Map<string, Map<string, number>>;
  /** The smallest gain that counts as relevant for recall. */
  relevantFrom: number;
  /** How the judgments map to gains and relevance, in words. */
  grading: string;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new AppError('DATASET_UNREADABLE', `${what} ${path}: expected a readable file, found ${code}`);
  }
}

const xmlEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text
    .replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
      if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
      return xmlEntities[name] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

function element(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? decodeXml(match[1]!) : null;
}

export type LiveQaQueryField = 'summary' | 'paraphrase' | 'original';

/** LiveQA-Med judgments, shifted to gains: 1-Incorrect 0, 2-Related 1, 3-Incomplete 2, 4-Excellent 3. */
const liveQaGrades: Record<string, number> = { '1-Incorrect': 0, '2-Related': 1, '3-Incomplete': 2, '4-Excellent': 3 };

/**
 * TREC-2017 LiveQA-Med test questions with the 2,479 judged MedQuAD answers (Ben Abacha & Demner-Fushman, BMC
 * Bioinformatics 2019). The corpus is the judged answers; the query text is the NLM summary of each question by
 * default (the consumer's original message, or NIST's paraphrase, on request).
 */
export async function loadLiveQaMed(dir: string, options: { queryField?: LiveQaQueryField } = {}): Promise<JudgedSet> {
  const files = await readdir(dir).catch(() => {
    throw new AppError('DATASET_UNREADABLE', `LiveQA-Med folder ${dir}: expected a readable folder, found none`);
  });
  const find = (pattern: RegExp, what: string): string => {
    const name = files.find((f) => pattern.test(f));
    if (!name) throw new InvalidInputError(`LiveQA-Med folder ${dir}`, what, files.join(', ') || 'no files');
    return join(dir, name);
  };
  const xml = await readText(
    find(/^TREC-2017-LiveQA-Medical-Test-Questions.*\.xml$/, 'the TREC-2017 LiveQA test questions XML'),
    'questions',
  );
  const qrelsText = await readText(find(/^All-qrels.*\.txt$/, 'the All-qrels_… judgments file'), 'qrels');
  const csv = await readText(
    find(/^All-.*Answers.*\.csv$/, 'the All-…-Answers-retrieved-from-MedQuAD.csv corpus'),
    'answers',
  );

  const field = options.queryField ?? 'summary';
  const queries: JudgedQuery[] = [];
  for (const match of xml.matchAll(/<NLM-QUESTION qid="TQ(\d+)">([\s\S]*?)<\/NLM-QUESTION>/g)) {
    const body = match[2]!;
    const text =
      field === 'summary'
        ? element(body, 'NLM-Summary')
        : field === 'paraphrase'
          ? element(body, 'NIST-PARAPHRASE')
          : [element(body, 'SUBJECT'), element(body, 'MESSAGE')].filter(Boolean).join('. ');
    if (text) queries.push({ id: match[1]!, text });
  }

  const qrels = new Map<string, Map<string, number>>();
  for (const [i, line] of qrelsText.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const [queryId, grade, documentId] = line.trim().split(/\s+/);
    const gain = grade === undefined ? undefined : liveQaGrades[grade];
    if (!queryId || !documentId || gain === undefined) {
      throw new InvalidInputError(
        `qrels line ${i + 1}`,
        '"<question> <1-Incorrect|2-Related|3-Incomplete|4-Excellent> <answer id>"',
        line,
      );
    }
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(documentId, Math.max(gain, judged.get(documentId) ?? 0));
    qrels.set(queryId, judged);
  }

  const documents = new Map<string, JudgedDocument>();
  for (const [id, answer] of parseCsv(csv).slice(1)) {
    if (!id || answer === undefined || documents.has(id)) continue;
    const title = /^Question:\s*(.*)$/m.exec(answer)?.[1]?.trim() ?? id;
    documents.set(id, { id, title, text: answer.trim() });
  }
  return {
    name: `TREC-2017 LiveQA-Med × MedQuAD judged answers (queries: NLM ${field})`,
    documents: [...documents.values()],
    queries,
    qrels,
    relevantFrom: 2,
    grading:
      'gain = LiveQA grade − 1 (Incorrect 0, Related 1, Incomplete 2, Excellent 3); relevant for recall: Incomplete or Excellent (gain ≥ 2); the corpus is the judged pool only, so scores are higher than on all of MedQuAD',
  };
}

function parseJsonl(text: string, what: string): Record<string, unknown>[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new InvalidInputError(`${what} line ${i + 1}`, 'a JSON object', line.slice(0, 80));
      }
    });
}

/** BEIR layout: corpus.jsonl {_id, title, text}, queries.jsonl {_id, text}, qrels/<split>.tsv (query-id, corpus-id, score). */
export async function loadBeir(dir: string, options: { split?: string } = {}): Promise<JudgedSet> {
  const split = options.split ?? 'test';
  const documents = parseJsonl(await readText(join(dir, 'corpus.jsonl'), 'BEIR corpus'), 'corpus.jsonl').map((d) => ({
    id: String(d['_id']),
    title: typeof d['title'] === 'string' ? d['title'] : '',
    text: typeof d['text'] === 'string' ? d['text'] : '',
  }));
  const allQueries = parseJsonl(await readText(join(dir, 'queries.jsonl'), 'BEIR queries'), 'queries.jsonl').map(
    (q) => ({
      id: String(q['_id']),
      text: typeof q['text'] === 'string' ? q['text'] : '',
    }),
  );
  const qrels = new Map<string, Map<string, number>>();
  const lines = (await readText(join(dir, 'qrels', `${split}.tsv`), 'BEIR qrels')).split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' || (i === 0 && /query-id/i.test(line))) continue;
    const [queryId, documentId, score] = line.split('\t');
    const gain = Number(score);
    if (!queryId || !documentId || !Number.isFinite(gain)) {
      throw new InvalidInputError(`qrels/${split}.tsv line ${i + 1}`, 'query-id<TAB>corpus-id<TAB>score', line);
    }
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(documentId, gain);
    qrels.set(queryId, judged);
  }
  return {
    name: `BEIR ${dir.split('/').filter(Boolean).at(-1) ?? dir} (${split})`,
    documents,
    queries: allQueries.filter((q) => qrels.has(q.id)),
    qrels,
    relevantFrom: 1,
    grading: 'gain = qrels score; relevant for recall: score ≥ 1 (BEIR convention)',
  };
}
