import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReasoningEvent, RunOutcome } from '../../shared/contract';
import { AuditStore } from '../audit/AuditStore';
import type { Reasoner } from '../engine/ports';
import { toErrorPayload } from '../errors/AppError';
import { EventBus } from '../ipc/EventBus';
import { createHistoryHandlers } from '../ipc/handlers/historyHandlers';
import { createReasoningHandlers } from '../ipc/handlers/reasoningHandlers';
import { RunRegistry } from '../runs/RunRegistry';
import { SettingsService } from '../settings/SettingsService';
import { openStore, type Db } from '../store/openStore';
import { KnowledgeGate } from './KnowledgeGate';
import type { CaseRetriever, PassageRetriever } from './ports';
import { ReasoningService } from './ReasoningService';
import { sha256Hex, StudyImageSource } from './StudyImageSource';
import { FakeCases, FakePassages, similarCase } from './testing/doubles';
import { ScriptedReasoner, type ScriptStep } from './testing/ScriptedReasoner';

const sharedDir = resolve(import.meta.dirname, '../../../../shared');
const vqaImages = join(sharedDir, 'data/vqa-rad/images');
const vqaImage = (() => {
  try {
    return join(vqaImages, readdirSync(vqaImages).find((f) => /\.jpe?g$/i.test(f))!);
  } catch {
    return null;
  }
})();

const think = (t: string) => `<think> ${t} </think>\n`;
const lowThenHigh: ScriptStep[] = [
  `${think('a crescent')}<query> crescent shaped hyperdensity </query>`,
  { text: `${think('maybe')}<answer> epidural hematoma </answer>`, confidence: 0.42 },
  { text: `${think('the similar case helps')}<answer> subdural hematoma </answer>`, confidence: 0.96 },
];

interface Harness {
  db: Db;
  dir: string;
  bus: EventBus;
  runs: RunRegistry;
  audit: AuditStore;
  settings: SettingsService;
  events: ReasoningEvent[];
  finished: Map<string, RunOutcome>;
  reasoner: Reasoner | null;
  service: ReasoningService;
  handlers: ReturnType<typeof createReasoningHandlers> & ReturnType<typeof createHistoryHandlers>;
  pngPath: string;
}

let h: Harness;

/** Another service on the harness's store and settings, with its own reasoner and no retrieval (replays). */
function replayService(h: Harness, reasoner: Reasoner): ReasoningService {
  return new ReasoningService({
    reasoner: () => reasoner,
    passages: () => null,
    cases: () => null,
    images: new StudyImageSource(),
    settings: h.settings,
    audit: h.audit,
    emit: () => undefined,
  });
}

function harness(
  options: {
    script?: ScriptStep[];
    reasoner?: Reasoner | null;
    passages?: PassageRetriever | null;
    cases?: CaseRetriever | null;
    knowledge?: KnowledgeGate;
  } = {},
): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'medrwr-reasoning-'));
  const db = openStore(join(dir, 'test.sqlite'));
  const bus = new EventBus();
  const runs = new RunRegistry(bus);
  const settings = new SettingsService(db);
  const audit = new AuditStore(db);
  const events: ReasoningEvent[] = [];
  const finished = new Map<string, RunOutcome>();
  bus.subscribe((channel, payload) => {
    if (channel === 'reasoning.event') events.push(payload as ReasoningEvent);
    if (channel === 'runs.finished') {
      const p = payload as { runId: string; outcome: RunOutcome };
      finished.set(p.runId, p.outcome);
    }
  });
  const reasoner = options.reasoner === undefined ? new ScriptedReasoner({ script: options.script ?? lowThenHigh }) : options.reasoner;
  const passages = options.passages === undefined ? new FakePassages() : options.passages;
  const cases = options.cases === undefined ? new FakeCases([similarCase()]) : options.cases;
  const service = new ReasoningService({
    reasoner: () => reasoner,
    passages: () => passages,
    cases: () => cases,
    images: new StudyImageSource(),
    settings,
    audit,
    emit: (e) => bus.emit('reasoning.event', e),
    fingerprint: () => ({ embedding: 'sha-embed', knowledgeBase: 'sha-kb' }),
    ...(options.knowledge ? { knowledge: options.knowledge } : {}),
  });
  // A real PNG: 1×1 gray, written byte by byte.
  const pngPath = join(dir, 'study.png');
  writeFileSync(
    pngPath,
    Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000001000000010800000000376ef9240000000a49444154789c63600000000200015d2a1f2b0000000049454e44ae426082',
      'hex',
    ),
  );
  return {
    db,
    dir,
    bus,
    runs,
    audit,
    settings,
    events,
    finished,
    reasoner,
    service,
    handlers: { ...createReasoningHandlers({ runs, service }), ...createHistoryHandlers({ audit, runs, reasoning: service }) },
    pngPath,
  };
}

async function ask(request: Parameters<Harness['handlers']['reasoning.ask']>[0]) {
  const { runId } = await h.handlers['reasoning.ask'](request);
  const outcome = await h.runs.waitFor(runId);
  return { runId, outcome, events: h.events.filter((e) => e.runId === runId) };
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return toErrorPayload(error).code;
  }
}

afterEach(() => {
  h?.db.close();
  if (h) rmSync(h.dir, { recursive: true, force: true });
});

describe('ReasoningService through the IPC handlers', () => {
  beforeEach(() => {
    h = harness();
  });

  it('runs reasoning.ask as a run and records everything the audit needs', async () => {
    const { runId, outcome, events } = await ask({ question: 'What is the hyperdense crescent?', image: { kind: 'file', path: h.pngPath } });
    expect(outcome).toEqual({ status: 'completed' });
    expect(events[0]).toMatchObject({ type: 'phase', phase: 'preparing' });
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: 'done', result: { answer: 'subdural hematoma', keptAttempt: 2, cdirTriggered: true } });

    const record = await h.handlers['history.get']({ runId });
    const bytes = readFileSync(h.pngPath);
    expect(record).toMatchObject({
      runId,
      status: 'completed',
      question: 'What is the hyperdense crescent?',
      answer: 'subdural hematoma',
      confidence: 0.96,
      imageSha256: sha256Hex(bytes),
      imageMime: 'image/png',
      mode: 'rwr+cdir',
      keptAttempt: 2,
      seed: 42,
      models: { reasoner: 'sha-scripted-model', mmproj: 'sha-scripted-mmproj', embedding: 'sha-embed', knowledgeBase: 'sha-kb' },
      cdir: { decision: 're-reasoned', confidence: 0.42, threshold: 0.9, placement: 'rewound' },
      endReason: 'answered',
      error: null,
      replayOf: null,
    });
    expect(record.settings.retrieval).toEqual({ k: 3, maxRounds: 3, mode: 'hybrid' });
    expect(record.attempts).toHaveLength(2);
    expect(record.attempts[0]!.queries[0]).toMatchObject({ query: 'crescent shaped hyperdensity', status: 'served' });
    expect(record.attempts[0]!.queries[0]!.hits.map((x) => [x.passageId, x.score])).toEqual([
      [1, 1],
      [2, 0.5],
      [3, 1 / 3],
    ]);
    expect(record.attempts[0]!.confidence).toMatchObject({ firstToken: 0.42, sampled: 1 });
    expect(record.attempts[0]!.transcript).toContain('<answer> epidural hematoma </answer>');
    expect(record.attempts[1]!.transcript.slice(record.attempts[1]!.outputStart)).toMatch(/^<think> I need to find a consultation/);
    expect(record.timings.totalMs).toBeGreaterThanOrEqual(record.timings.modelMs);
    expect(record.similarCase).toMatchObject({ caseId: 7 });
    expect(h.audit.image(record.imageSha256!)!.bytes).toEqual(new Uint8Array(bytes));
    expect(h.audit.image(record.cdir.caseImageSha256!)).not.toBeNull();

    const list = await h.handlers['history.list']({});
    expect(list).toEqual([expect.objectContaining({ runId, answer: 'subdural hematoma', cdirTriggered: true, status: 'completed' })]);
  });

  it('rejects bad requests before any run starts', () => {
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: '  ', image: null }))).toBe('INVALID_INPUT');
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: null, choices: ['only one'] }))).toBe('INVALID_INPUT');
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: null, choices: ['a', 'A'] }))).toBe('INVALID_INPUT');
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: null, mode: 'fast' as never }))).toBe('INVALID_INPUT');
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: { kind: 'url', path: 'x' } as never }))).toBe('INVALID_INPUT');
    expect(h.runs.active).toEqual([]);
    expect(h.audit.list()).toEqual([]);
  });

  it('answers NOT_AVAILABLE without a reasoner, or for an image without a vision projector', () => {
    h.db.close();
    rmSync(h.dir, { recursive: true, force: true });
    h = harness({ reasoner: null });
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: null }))).toBe('NOT_AVAILABLE');
    h.db.close();
    rmSync(h.dir, { recursive: true, force: true });
    h = harness({ reasoner: new ScriptedReasoner({ script: [], hasVision: false }) });
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: { kind: 'file', path: h.pngPath } }))).toBe('NOT_AVAILABLE');
    expect(codeOf(() => h.handlers['reasoning.ask']({ question: 'q', image: null }))).toBeNull();
  });

  it('cancels through runs.cancel and records the partial run', async () => {
    h.db.close();
    rmSync(h.dir, { recursive: true, force: true });
    let runId = '';
    h = harness({
      reasoner: new ScriptedReasoner({
        script: lowThenHigh,
        beforeToken: (generated) => {
          if (generated.includes('<query> cres')) h.runs.cancel(runId);
        },
      }),
    });
    ({ runId } = await h.handlers['reasoning.ask']({ question: 'q?', image: null }));
    await h.runs.waitFor(runId);
    expect(h.finished.get(runId)).toEqual({ status: 'cancelled' });
    expect(h.events.filter((e) => e.runId === runId).at(-1)).toEqual({ runId, type: 'cancelled' });
    const record = h.audit.get(runId);
    expect(record).toMatchObject({ status: 'cancelled', endReason: 'cancelled', answer: null });
    expect(record.attempts[0]!.transcript).toContain('<query> cres');
  });

  it('reports a failing retrieval as failed, with its code, and records it', async () => {
    h.db.close();
    rmSync(h.dir, { recursive: true, force: true });
    h = harness({
      passages: {
        search: async () => {
          throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        },
      },
    });
    const { runId, outcome, events } = await ask({ question: 'q?', image: null });
    expect(outcome).toEqual({ status: 'failed', error: { code: 'SQLITE_BUSY', message: 'database is locked' } });
    expect(events.at(-1)).toEqual({ runId, type: 'failed', error: { code: 'SQLITE_BUSY', message: 'database is locked' } });
    expect(h.audit.get(runId)).toMatchObject({ status: 'failed', error: { code: 'SQLITE_BUSY' } });
  });

  it('replays a run exactly from its record, and detects a different model or output', async () => {
    const { runId } = await ask({ question: 'What is it?', choices: ['epidural hematoma', 'subdural hematoma'], image: { kind: 'file', path: h.pngPath } });
    // Later changes to settings and the knowledge base do not affect the replay: it uses what was recorded.
    h.settings.update({ retrieval: { k: 1 }, reasoning: { cdirThreshold: 0.1 } });
    const replay = await h.service.replay(runId, { runId: 'replay-1', signal: new AbortController().signal });
    expect(replay.match).toEqual({
      identical: true,
      attempts: [
        { attempt: 1, identical: true, firstDifference: null },
        { attempt: 2, identical: true, firstDifference: null },
      ],
    });
    expect(replay.result!.answer).toBe('subdural hematoma');
    expect(h.audit.get('replay-1')).toMatchObject({ replayOf: runId, replayMatch: { identical: true } });
    expect(h.audit.list()[0]).toMatchObject({ runId: 'replay-1', replayOf: runId });

    const drifted = new ScriptedReasoner({ script: [lowThenHigh[0]!, { text: `${think('other')}<answer> epidural hematoma </answer>`, confidence: 0.99 }] });
    const other = replayService(h, drifted);
    const diverged = await other.replay(runId, { runId: 'replay-2', signal: new AbortController().signal });
    expect(diverged.match.identical).toBe(false);
    expect(diverged.match.attempts[0]!.firstDifference).toBeGreaterThan(0);

    const stranger: Reasoner = {
      model: { ...drifted.model, sha256: 'another-model' },
      projector: drifted.projector,
      hasVision: true,
      mediaMarker: drifted.mediaMarker,
      createSession: () => drifted.createSession(),
      dispose: async () => undefined,
    };
    const mismatched = replayService(h, stranger);
    await expect(mismatched.replay(runId, { runId: 'replay-3', signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'REPLAY_MODEL_MISMATCH',
    });
  });

  it('waits while the bundled knowledge base is built (saying so), can be cancelled meanwhile, and replays without waiting', async () => {
    const building = (): { gate: KnowledgeGate; finish: () => void } => {
      const gate = new KnowledgeGate();
      let finish!: () => void;
      gate.follow('bundled', new Promise((resolve) => (finish = () => resolve({ status: 'completed' }))));
      return { gate, finish };
    };
    h.db.close();
    rmSync(h.dir, { recursive: true, force: true });
    const first = building();
    h = harness({ knowledge: first.gate });
    const scripted = h.reasoner as ScriptedReasoner;
    const phases = (runId: string): string[] => h.events.flatMap((e) => (e.runId === runId && e.type === 'phase' ? [e.phase] : []));
    const { runId } = await h.handlers['reasoning.ask']({ question: 'q?', image: null });
    await new Promise((r) => setTimeout(r, 20));
    expect(phases(runId)).toEqual(['preparing', 'waiting-for-knowledge']);
    expect(scripted.sessions).toHaveLength(0);
    first.finish();
    expect(await h.runs.waitFor(runId)).toEqual({ status: 'completed' });
    expect(phases(runId).slice(0, 4)).toEqual(['preparing', 'waiting-for-knowledge', 'preparing', 'thinking']);
    expect(h.audit.get(runId).answer).toBe('epidural hematoma');

    // Still building: a replay uses the recorded passages and does not wait; a new run does, until cancelled.
    const second = building();
    const svc = new ReasoningService({
      reasoner: () => scripted,
      passages: () => new FakePassages(),
      cases: () => new FakeCases([similarCase()]),
      images: new StudyImageSource(),
      settings: h.settings,
      audit: h.audit,
      emit: (e) => h.bus.emit('reasoning.event', e),
      knowledge: second.gate,
    });
    const replay = await svc.replay(runId, { runId: 'replay-while-building', signal: new AbortController().signal });
    expect(replay.match.identical).toBe(true);
    const waiting = h.runs.start('reasoning', (run) => svc.ask({ question: 'q?', image: null }, run).then(() => undefined));
    await new Promise((r) => setTimeout(r, 20));
    expect(phases(waiting)).toEqual(['preparing', 'waiting-for-knowledge']);
    h.runs.cancel(waiting);
    expect(await h.runs.waitFor(waiting)).toEqual({ status: 'cancelled' });
    expect(h.audit.get(waiting)).toMatchObject({ status: 'cancelled', attempts: [] });
  });

  it('re-runs a recorded run through history.replay as a streamed run, recorded with replayOf and a match per attempt', async () => {
    const { runId: original } = await ask({ question: 'What is it?', choices: ['epidural hematoma', 'subdural hematoma'], image: { kind: 'file', path: h.pngPath } });
    const { runId } = await h.handlers['history.replay']({ runId: original });
    expect(runId).not.toBe(original);
    expect(await h.runs.waitFor(runId)).toEqual({ status: 'completed' });
    const events = h.events.filter((e) => e.runId === runId);
    expect(events.filter((e) => e.type === 'token').length).toBeGreaterThan(5);
    expect(events.map((e) => e.type)).toContain('cdir');
    expect(events.at(-1)).toMatchObject({ type: 'done', result: { answer: 'subdural hematoma', keptAttempt: 2 } });
    const record = h.audit.get(runId);
    expect(record).toMatchObject({
      replayOf: original,
      replayMatch: { identical: true, attempts: [{ attempt: 1, identical: true }, { attempt: 2, identical: true }] },
    });
    expect(h.audit.list().find((r) => r.runId === runId)?.replayOf).toBe(original);

    // Refused at once, with the codes the UI explains: unknown run, a bad id, another model loaded.
    expect(codeOf(() => h.handlers['history.replay']({ runId: 'no-such-run' }))).toBe('RUN_NOT_FOUND');
    expect(codeOf(() => h.handlers['history.replay']({ runId: '' }))).toBe('INVALID_INPUT');
    const other = new ScriptedReasoner({ script: lowThenHigh });
    const stranger: Reasoner = { ...other, model: { ...other.model, name: 'other.gguf', sha256: 'f'.repeat(64) }, createSession: () => other.createSession(), dispose: async () => undefined };
    const mismatched = createHistoryHandlers({
      audit: h.audit,
      runs: h.runs,
      reasoning: replayService(h, stranger),
    });
    const active = h.runs.active.length;
    let refusal: unknown = null;
    try {
      mismatched['history.replay']({ runId: original });
    } catch (error) {
      refusal = error;
    }
    expect(toErrorPayload(refusal)).toEqual({
      code: 'REPLAY_MODEL_MISMATCH',
      message: expect.stringMatching(/^replay: expected the reasoner this run used \(scripted-model, sha256 sha-scripted…\), found other\.gguf \(sha256 ffffffffffff…\) loaded; load the recorded model to re-run it$/),
    });
    expect(h.runs.active.length).toBe(active);
    expect(codeOf(() => createHistoryHandlers({ audit: h.audit })['history.replay']({ runId: original }))).toBe('NOT_AVAILABLE');
  });

  it('exports a self-contained HTML report', async () => {
    const { runId } = await ask({ question: 'Is this <script>alert(1)</script> a bleed?', image: { kind: 'file', path: h.pngPath } });
    const report = await h.handlers['history.exportHtml']({ runId });
    expect(report.fileName).toMatch(/^medrwr-run-.*\.html$/);
    const html = report.html;
    expect(html).toContain(`data:image/png;base64,${readFileSync(h.pngPath).toString('base64')}`);
    expect(html).toContain('Is this &lt;script&gt;alert(1)&lt;/script&gt; a bleed?');
    expect(html).not.toContain('<script>');
    expect(html).toContain('subdural hematoma');
    expect(html).toContain('crescent shaped hyperdensity 1'); // a cited passage title
    expect(html).toContain(h.audit.get(runId).imageSha256!);
    expect(html).toContain('sha-scripted-model');
    expect(html).toContain('re-reasoned');
    expect(html).toMatch(/class="block query"/);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).toContain("default-src 'none'");
  });

  it('returns RUN_NOT_FOUND for an unknown run', () => {
    expect(codeOf(() => h.handlers['history.get']({ runId: 'nope' }))).toBe('RUN_NOT_FOUND');
    expect(codeOf(() => h.handlers['history.exportHtml']({ runId: '' }))).toBe('INVALID_INPUT');
  });
});

describe.skipIf(vqaImage === null)('StudyImageSource on a real VQA-RAD JPEG (../shared)', () => {
  it('hashes the exact file bytes and passes the JPEG by path', async () => {
    const image = await new StudyImageSource().load({ kind: 'file', path: vqaImage! });
    expect(image.mime).toBe('image/jpeg');
    expect(image.sha256).toBe(sha256Hex(readFileSync(vqaImage!)));
    expect(image.modelInput).toEqual({ path: vqaImage });
  });
});

describe('StudyImageSource errors', () => {
  it('says what it expected for a missing or unknown file, and needs the studies service for DICOM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medrwr-img-'));
    try {
      await expect(new StudyImageSource().load({ kind: 'file', path: join(dir, 'missing.png') })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      writeFileSync(join(dir, 'notes.txt'), 'hello');
      await expect(new StudyImageSource().load({ kind: 'file', path: join(dir, 'notes.txt') })).rejects.toThrow(/unrecognised content/);
      writeFileSync(join(dir, 'x.dcm'), Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]));
      await expect(new StudyImageSource().load({ kind: 'file', path: join(dir, 'x.dcm') })).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
      await expect(
        new StudyImageSource().load({ kind: 'instance', sopInstanceUid: '1.2', frame: 0, window: null }),
      ).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
