import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../knowledge/cases/csv';
import { loadBeir, loadLiveQaMed, type JudgedSet } from './judgedSets';
import { KnowledgeBenchmarkRetriever } from './KnowledgeBenchmarkRetriever';
import { runRetrievalBenchmark, type BenchmarkRetriever } from './retrievalBenchmark';

const liveQaDir = resolve(import.meta.dirname, '../../../../../shared/data/retrieval/medquad_liveqa_judged');

/** Ranks by a fixed table, recording what it was asked to index. */
class TableRetriever implements BenchmarkRetriever {
  readonly description = 'fixed rankings';
  indexed = 0;
  constructor(private readonly table: Record<string, string[]>) {}
  async index(documents: readonly { id: string }[]) {
    this.indexed = documents.length;
  }
  async rank(query: string, depth: number) {
    return (this.table[query] ?? []).slice(0, depth);
  }
}

describe('runRetrievalBenchmark', () => {
  const set: JudgedSet = {
    name: 'hand-made',
    documents: ['d1', 'd2', 'd3', 'd4'].map((id) => ({ id, title: id, text: id })),
    queries: [
      { id: 'q1', text: 'first' },
      { id: 'q2', text: 'second' },
      { id: 'q3', text: 'third' },
    ],
    qrels: new Map([
      [
        'q1',
        new Map([
          ['d1', 3],
          ['d2', 1],
        ]),
      ],
      ['q2', new Map([['d3', 1]])],
    ]),
    relevantFrom: 2,
    grading: 'test',
  };

  it('averages graded nDCG over queries with any gain and recall over queries with a relevant document', async () => {
    const retriever = new TableRetriever({ first: ['d2', 'd1', 'd4'], second: ['d4', 'd3'], third: ['d1'] });
    const report = await runRetrievalBenchmark(set, retriever, { recallKs: [1, 3] });
    expect(retriever.indexed).toBe(4);
    // q1: (1/log2 2 + 3/log2 3) / (3 + 1/log2 3) = 0.79671; q2: (1/log2 3) / 1 = 0.63093.
    expect(report.ndcg).toBeCloseTo(0.7138186672809821, 12);
    expect(report.ndcgQueries).toBe(2);
    expect(report).toMatchObject({ queries: 1, skipped: 2, k: 10, mrr: 0.5, precision: 0.1, documents: 4 });
    expect(report.recall).toEqual([
      { k: 1, value: 0 },
      { k: 3, value: 1 },
    ]);
    expect(report.perQuery.map((q) => q.id)).toEqual(['q1', 'q2']);
    expect(report.perQuery[0]!.ranked).toEqual(['d2', 'd1', 'd4']);
    expect(report.queryLatency.items).toBe(3);
  });
});

describe('judged sets', () => {
  it('parses RFC 4180 CSV with quoted commas, quotes and line breaks', () => {
    expect(parseCsv('id,text\r\na,"x, ""y""\nz"\nb,plain\n')).toEqual([
      ['id', 'text'],
      ['a', 'x, "y"\nz'],
      ['b', 'plain'],
    ]);
  });

  it('reads the BEIR layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medrwr-beir-'));
    try {
      mkdirSync(join(dir, 'qrels'));
      writeFileSync(
        join(dir, 'corpus.jsonl'),
        ['{"_id":"d1","title":"T1","text":"one"}', '{"_id":"d2","text":"two"}'].join('\n'),
      );
      writeFileSync(
        join(dir, 'queries.jsonl'),
        ['{"_id":"q1","text":"first?"}', '{"_id":"q9","text":"unjudged"}'].join('\n'),
      );
      writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td2\t2\nq1\td1\t0\n');
      const set = await loadBeir(dir);
      expect(set.documents).toEqual([
        { id: 'd1', title: 'T1', text: 'one' },
        { id: 'd2', title: '', text: 'two' },
      ]);
      expect(set.queries).toEqual([{ id: 'q1', text: 'first?' }]);
      expect([...set.qrels.get('q1')!]).toEqual([
        ['d2', 2],
        ['d1', 0],
      ]);
      expect(set.relevantFrom).toBe(1);
      await expect(loadBeir(join(dir, 'nope'))).rejects.toMatchObject({ code: 'DATASET_UNREADABLE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!existsSync(liveQaDir))(
    'LiveQA-Med from ../shared/data/retrieval (skipped when ../shared is absent)',
    () => {
      it('reads 104 questions, 1,935 distinct judged answers and graded qrels', async () => {
        const set = await loadLiveQaMed(liveQaDir);
        expect(set.queries).toHaveLength(104);
        expect(set.queries[0]).toEqual({
          id: '1',
          text: 'What is the relationship between Noonan syndrome and polycystic renal disease?',
        });
        expect(set.documents).toHaveLength(1935);
        const doc = set.documents.find((d) => d.id === 'ADAM_0003147_Sec1.txt')!;
        expect(doc.title).toBe(
          'What is (are) Polycystic ovary syndrome ? (Also called: Polycystic ovaries; Polycystic ovary disease; Stein-Leventhal syndrome; Polyfollicular ovarian disease)',
        );
        expect(doc.text).toContain('Answer: Polycystic ovary syndrome is a condition');
        expect(set.qrels.size).toBe(103);
        expect(set.qrels.get('1')!.get('ADAM_0003147_Sec1.txt')).toBe(0);
        // Judged twice for question 1 (2-Related and 3-Incomplete): the higher grade is kept.
        expect(set.qrels.get('1')!.get('ADAM_0002818_Sec2.txt')).toBe(2);
        expect(set.qrels.get('1')!.get('ADAM_0002818_Sec7.txt')).toBe(1);
        const judgments = [...set.qrels.values()].reduce((n, m) => n + m.size, 0);
        expect(judgments).toBeLessThanOrEqual(2479);
        const original = await loadLiveQaMed(liveQaDir, { queryField: 'original' });
        expect(original.queries[0]!.text).toBe(
          'Noonan syndrome. What are the references with noonan syndrome and polycystic renal disease',
        );
      });

      it('measures the knowledge service’s lexical search on it (nDCG@10 and recall in (0, 1])', async () => {
        const set = await loadLiveQaMed(liveQaDir);
        const retriever = new KnowledgeBenchmarkRetriever({ mode: 'lexical' });
        try {
          const report = await runRetrievalBenchmark({ ...set, queries: set.queries.slice(0, 30) }, retriever);
          expect(report.documents).toBe(1935);
          expect(report.ndcg).toBeGreaterThan(0.2);
          expect(report.ndcg).toBeLessThanOrEqual(1);
          expect(report.recall.find((r) => r.k === 20)!.value).toBeGreaterThan(
            report.recall.find((r) => r.k === 1)!.value,
          );
          expect(report.perQuery.every((q) => q.ranked.every((id) => set.documents.some((d) => d.id === id)))).toBe(
            true,
          );
        } finally {
          retriever.dispose();
        }
      });
    },
  );
});
