import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../audit/AuditStore';
import { EventBus } from '../../ipc/EventBus';
import { ReasoningService } from '../../reasoning/ReasoningService';
import type { ImageSource } from '../../reasoning/ports';
import { FakeCases, FakePassages, similarCase, studyImage } from '../../reasoning/testing/doubles';
import { ScriptedReasoner } from '../../reasoning/testing/ScriptedReasoner';
import { RunRegistry } from '../../runs/RunRegistry';
import { defaultSettings } from '../../settings/defaultSettings';
import { openStore, type Db } from '../../store/openStore';
import { EvalService } from '../EvalService';
import { EvalStore } from '../EvalStore';
import { ReasoningItemRunner } from './ReasoningItemRunner';

const think = (t: string) => `<think> ${t} </think>\n`;
const query = (q: string) => `${think('I need more knowledge')}<query> ${q} </query>`;
const answer = (a: string, confidence: number) => ({
  text: `${think('concluding')}<answer> ${a} </answer>`,
  confidence,
});

/** Records which files the loop asked for; the image bytes themselves do not matter to a scripted reasoner. */
class RecordingImages implements ImageSource {
  readonly paths: string[] = [];
  async load(ref: Parameters<ImageSource['load']>[0]) {
    if (ref.kind === 'file') this.paths.push(ref.path);
    return studyImage(ref.kind === 'file' ? ref.path : ref.sopInstanceUid);
  }
}

describe('ReasoningItemRunner runs items through the reasoning service and its audit (scripted reasoner)', () => {
  let dir: string;
  let db: Db;
  let runs: RunRegistry;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-eval-loop-'));
    writeFileSync(join(dir, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    const rows = [
      { id: 'q1', image: 'a.png', question: 'Is there a mass?', answer: 'yes' },
      { id: 'q2', image: 'a.png', question: 'Is the heart enlarged?', answer: 'no' },
    ];
    writeFileSync(join(dir, 'set.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    db = openStore(join(dir, 'store.sqlite'));
    runs = new RunRegistry(new EventBus());
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs direct, rwr and rwr+cdir over the same items and records queries, hit sources and CDIR flips', async () => {
    // Every session: one query, a hesitant "yes" (0.5), then — only when CDIR re-reasons — a confident "no".
    const reasoner = new ScriptedReasoner({ script: [query('mass findings'), answer('yes', 0.5), answer('no', 0.95)] });
    const passages = new FakePassages();
    const cases = new FakeCases([similarCase()]);
    const images = new RecordingImages();
    const audit = new AuditStore(db);
    const reasoning = new ReasoningService({
      reasoner: () => reasoner,
      passages: () => passages,
      cases: () => cases,
      images,
      settings: { get: defaultSettings },
      audit,
      emit: () => undefined,
    });
    const runner = new ReasoningItemRunner({
      reasoning,
      audit,
      fingerprint: () => ({ embedding: null, knowledgeBase: 'kb-sha' }),
    });
    const evals = new EvalService({
      store: new EvalStore(db),
      runs,
      bus: new EventBus(),
      settings: { get: defaultSettings },
      modelRunner: () => runner,
      appVersion: 'test',
    });
    const { runId, evalId } = await evals.start({
      dataset: { format: 'jsonl', path: join(dir, 'set.jsonl') },
      modes: ['direct', 'rwr', 'rwr+cdir'],
    });
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });

    const results = evals.results({ evalId });
    expect(
      results.map((r) => [r.itemId, r.mode, r.answer, r.correct, r.cdirTriggered, r.firstAnswer, r.rounds]),
    ).toEqual([
      ['q1', 'direct', 'yes', true, false, null, 0],
      ['q1', 'rwr', 'yes', true, false, null, 1],
      ['q1', 'rwr+cdir', 'no', false, true, 'yes', 1],
      ['q2', 'direct', 'yes', false, false, null, 0],
      ['q2', 'rwr', 'yes', false, false, null, 1],
      ['q2', 'rwr+cdir', 'no', true, true, 'yes', 1],
    ]);
    expect(results[2]!.confidence?.used).toBe(0.95);
    // Every evaluated answer is an audit record, with the evaluation's mode and seed.
    const record = audit.get(results[2]!.auditRunId!);
    expect(record).toMatchObject({
      mode: 'rwr+cdir',
      answer: 'no',
      seed: 42,
      question: 'Is there a mass?',
      choices: ['yes', 'no'],
    });
    expect(record.attempts).toHaveLength(2);
    // Direct mode refuses the query (answered "None"), so only rwr and rwr+cdir searched the knowledge base.
    expect(passages.queries).toEqual(['mass findings', 'mass findings', 'mass findings', 'mass findings']);
    expect(cases.calls).toBe(2);
    expect(images.paths).toEqual(Array.from({ length: 6 }, () => join(dir, 'a.png')));

    const detail = evals.get(evalId);
    expect(detail.runner).toMatchObject({
      kind: 'model',
      models: [
        { role: 'reasoner', sha256: 'sha-scripted-model' },
        { role: 'mmproj', sha256: 'sha-scripted-mmproj' },
      ],
      knowledgeBase: 'kb-sha',
    });
    const [direct, rwr, cdir] = detail.metrics.modes;
    expect(direct!.retrieval).toMatchObject({ queriesTotal: 2, hitsTotal: 0 });
    expect(rwr!.retrieval).toMatchObject({
      queriesTotal: 2,
      queriesPerItem: 1,
      hitsTotal: 6,
      hitSources: [{ source: 'Test source', hits: 6 }],
    });
    expect(cdir!.cdir).toMatchObject({ reattempted: 2, wrongToRight: 1, rightToWrong: 1, answerChanged: 2 });
    expect(cdir!.cdir.triggered).toMatchObject({ count: 2, total: 2 });
    expect(detail.metrics.paired.find((p) => p.modeA === 'rwr' && p.modeB === 'rwr+cdir')).toMatchObject({
      onlyA: 1,
      onlyB: 1,
      method: 'exact-binomial',
      pValue: 1,
    });
  });
});
