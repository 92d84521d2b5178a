import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../audit/AuditStore';
import type { App } from '../compose';
import type { Reasoner } from '../engine/ports';
import { EventBus } from '../ipc/EventBus';
import { createHistoryHandlers } from '../ipc/handlers/historyHandlers';
import { ReasoningService } from '../reasoning/ReasoningService';
import { StudyImageSource } from '../reasoning/StudyImageSource';
import { FakeCases, FakePassages, similarCase } from '../reasoning/testing/doubles';
import { ScriptedReasoner } from '../reasoning/testing/ScriptedReasoner';
import { RunRegistry } from '../runs/RunRegistry';
import { SettingsService } from '../settings/SettingsService';
import { openStore, type Db } from '../store/openStore';
import { askCommand } from './askCommand';
import type { CliContext } from './CliContext';

const script = [
  '<think> a crescent </think>\n<query> crescent hyperdensity </query>',
  { text: '<think> unsure </think>\n<answer> epidural hematoma </answer>', confidence: 0.5 },
  { text: '<think> the case helps </think>\n<answer> subdural hematoma </answer>', confidence: 0.97 },
];

let dir: string;
let db: Db;
let png: string;

function testApp(reasoner: Reasoner | null): App {
  const bus = new EventBus();
  const runs = new RunRegistry(bus);
  const settings = new SettingsService(db);
  const audit = new AuditStore(db);
  const reasoning = new ReasoningService({
    reasoner: () => reasoner,
    passages: () => new FakePassages(),
    cases: () => new FakeCases([similarCase()]),
    images: new StudyImageSource(),
    settings,
    audit,
    emit: (e) => bus.emit('reasoning.event', e),
  });
  return { bus, runs, settings, audit, reasoning, handlers: createHistoryHandlers({ audit }) } as unknown as App;
}

function cli(app: App): CliContext & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { app: async () => app, out: (l) => lines.push(l), err: (l) => errors.push(l), lines, errors };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medrwr-ask-'));
  db = openStore(join(dir, 'db.sqlite'));
  png = join(dir, 'study.png');
  writeFileSync(
    png,
    Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000001000000010800000000376ef9240000000a49444154789c63600000000200015d2a1f2b0000000049454e44ae426082',
      'hex',
    ),
  );
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run ask', () => {
  it('prints the streamed run and writes the record', async () => {
    const app = testApp(new ScriptedReasoner({ script }));
    const c = cli(app);
    const code = await askCommand(['--image', png, '--question', 'What is the crescent?'], c);
    expect(c.errors).toEqual([]);
    expect(code).toBe(0);
    const text = c.lines.join('\n');
    expect(text).toMatch(/^▶ run \S+ · mode rwr\+cdir · image study\.png/);
    expect(text).toContain('[think]  a crescent');
    expect(text).toContain('[query 1] crescent hyperdensity');
    expect(text).toContain('  (1) crescent hyperdensity 1 — Test source');
    expect(text).toMatch(/\[answer\] epidural hematoma — confidence 0\.500/);
    expect(text).toMatch(/\[cdir → attempt 2\] confidence 0\.500 < threshold 0\.9: re-reasoning with similar case/);
    expect(text).toMatch(/\[answer 2\] subdural hematoma — confidence 0\.970/);
    expect(text).toMatch(/✔ subdural hematoma · .* attempt 2 of 2 · 1 retrieval round/);
    const runId = /record: (\S+)/.exec(text)![1]!;
    expect(app.audit.get(runId)).toMatchObject({ answer: 'subdural hematoma', status: 'completed' });

    const listed = cli(app);
    expect(await askCommand(['--list'], listed)).toBe(0);
    expect(listed.lines.join('\n')).toContain(runId);

    const out = join(dir, 'report.html');
    const exported = cli(app);
    expect(await askCommand(['--export', runId, '--out', out], exported)).toBe(0);
    expect(existsSync(out) && readFileSync(out, 'utf8')).toContain('subdural hematoma');
  });

  it('prints JSON lines with --json and replays a run', async () => {
    const app = testApp(new ScriptedReasoner({ script }));
    const c = cli(app);
    expect(await askCommand(['--question', 'What is it?', '--choices', 'epidural hematoma, subdural hematoma', '--mode', 'rwr', '--json'], c)).toBe(0);
    const events = c.lines.map((l) => JSON.parse(l) as { type: string; runId: string; result?: { answer: string } });
    expect(events.at(-1)).toMatchObject({ type: 'done', result: { answer: 'epidural hematoma' } });
    const replayed = cli(app);
    // Every session of the scripted model writes the same script, so the replay reproduces the run.
    expect(await askCommand(['--replay', events[0]!.runId], replayed)).toBe(0);
    expect(replayed.lines.at(-1)).toMatch(/^✔ replay reproduced run \S+ \(replay \S+\)\n {2}attempt 1: identical$/);
  });

  it('explains usage errors and a missing reasoner', async () => {
    const c = cli(testApp(null));
    expect(await askCommand(['--image', png], c)).toBe(2);
    expect(c.errors[0]).toMatch(/--question is required/);
    expect(await askCommand(['--question', 'q', '--mode', 'fast'], c)).toBe(2);
    expect(await askCommand(['--question', 'q'], c)).toBe(1);
    expect(c.errors.at(-1)).toMatch(/^ask: NOT_AVAILABLE: reasoning is not available: no reasoner model is loaded/);
  });
});

describe('npm run ask per-run settings', () => {
  it('runs grammar-constrained with the given bounds for this run only, and refuses bounds out of range', async () => {
    const reasoner = new ScriptedReasoner({ script: [{ text: '<think> x </think>\n<answer> B </answer>', confidence: 0.99 }] });
    const app = testApp(reasoner);
    const c = cli(app);
    const args = ['--question', 'Which?', '--choices', 'a,b', '--grammar', '--think-chars', '64', '--query-chars', '24', '--max-tokens', '200'];
    expect(await askCommand(args, c)).toBe(0);
    expect(c.lines[0]).toMatch(/ · grammar \(≤64 thought \/ ≤24 query chars\)$/);
    const grammar = reasoner.sessions[0]!.calls.find((call) => call.kind === 'start')!.options;
    expect(grammar).toMatchObject({ maxTokens: 200 - 64 }); // the answer's share of the budget is kept back
    expect(grammar.grammar).toContain('"<think>" [^<]{1,64} "</think>"');
    expect(grammar.grammar).toContain('"<query>" [^<]{1,24} "</query>"');
    const runId = /record: (\S+)/.exec(c.lines.join('\n'))![1]!;
    expect(app.audit.get(runId).settings.reasoning).toMatchObject({ grammarConstrained: true, grammarThinkChars: 64, grammarQueryChars: 24, maxTokens: 200 });
    // Never saved.
    expect(app.settings.get().reasoning).toMatchObject({ grammarConstrained: false, grammarThinkChars: 2000, grammarQueryChars: 300 });

    const bad = cli(app);
    expect(await askCommand(['--question', 'q', '--grammar', '--think-chars', '3'], bad)).toBe(1);
    expect(bad.errors.at(-1)).toMatch(/INVALID_INPUT: .*settings\.reasoning\.grammarThinkChars.*an integer from 8 to 100000/);
    expect(await askCommand(['--question', 'q', '--max-tokens', 'many'], bad)).toBe(2);
  });
});

describe('npm run ask outcomes', () => {
  it('names the chosen option and exits 4 when the run ends without an answer', async () => {
    const answered = cli(testApp(new ScriptedReasoner({ script: [{ text: '<think> x </think>\n<answer> B </answer>', confidence: 0.99 }] })));
    expect(await askCommand(['--question', 'Which?', '--choices', 'epidural,subdural'], answered)).toBe(0);
    expect(answered.lines.join('\n')).toMatch(/\[answer\] B — subdural — confidence 0\.990/);
    const silent = cli(testApp(new ScriptedReasoner({ script: ['<think> nothing to say </think>'] })));
    expect(await askCommand(['--question', 'Which?', '--mode', 'rwr'], silent)).toBe(4);
    expect(silent.lines.join('\n')).toMatch(/✘ no answer \(no-answer:eos\)/);
  });
});
