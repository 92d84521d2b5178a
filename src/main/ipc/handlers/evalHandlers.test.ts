import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvalRequest } from '../../../shared/contract';
import { EvalService } from '../../eval/EvalService';
import { EvalStore } from '../../eval/EvalStore';
import { RunRegistry } from '../../runs/RunRegistry';
import { defaultSettings } from '../../settings/defaultSettings';
import { openStore, type Db } from '../../store/openStore';
import { dispatchInvoke } from '../dispatchInvoke';
import { EventBus } from '../EventBus';
import type { InvokeHandlers } from '../handlers';
import { createEvalHandlers } from './evalHandlers';

describe('eval.* handlers', () => {
  let dir: string;
  let db: Db;
  let runs: RunRegistry;
  let handlers: InvokeHandlers;
  let dataset: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-eval-ipc-'));
    writeFileSync(join(dir, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]));
    dataset = join(dir, 'set.jsonl');
    writeFileSync(dataset, JSON.stringify({ id: 'q1', image: 'a.png', question: 'Is there a mass?', answer: 'no' }));
    db = openStore(join(dir, 'db.sqlite'));
    const bus = new EventBus();
    runs = new RunRegistry(bus);
    const evals = new EvalService({
      store: new EvalStore(db),
      runs,
      bus,
      settings: { get: defaultSettings },
      modelRunner: () => null,
      appVersion: 'test',
    });
    handlers = createEvalHandlers(evals) as unknown as InvokeHandlers;
  });

  afterEach(() => {
    runs.cancelAll();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const invoke = (channel: string, args: unknown) => dispatchInvoke(handlers, channel, args);

  it('starts a dry run and serves list, get, results, report and export with codes that survive the transport', async () => {
    const started = await invoke('eval.start', {
      dataset: { format: 'jsonl', path: dataset },
      modes: ['direct', 'rwr'],
      dryRun: true,
    } satisfies EvalRequest);
    expect(started.ok).toBe(true);
    const { runId, evalId } = (started as { ok: true; result: { runId: string; evalId: string } }).result;
    await runs.waitFor(runId);
    const list = await invoke('eval.list', undefined);
    expect(list).toMatchObject({ ok: true, result: [{ evalId, status: 'completed', resultsDone: 2 }] });
    expect(await invoke('eval.results', { evalId })).toMatchObject({
      ok: true,
      result: [{ itemId: 'q1' }, { itemId: 'q1' }],
    });
    expect(await invoke('eval.report', { evalId })).toMatchObject({
      ok: true,
      result: { fileName: expect.stringMatching(/\.html$/) },
    });
    expect(await invoke('eval.export', { evalId, format: 'jsonl' })).toMatchObject({
      ok: true,
      result: { mimeType: 'application/x-ndjson' },
    });
    expect(await invoke('eval.remove', { evalId })).toEqual({ ok: true, result: { removed: true } });
    expect(await invoke('eval.get', { evalId })).toMatchObject({ ok: false, error: { code: 'EVAL_NOT_FOUND' } });
  });

  it('refuses malformed requests before anything runs', async () => {
    expect(await invoke('eval.start', { dataset: { format: 'csv', path: dataset }, modes: ['direct'] })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: 'eval.start dataset.format: expected vqa-rad | slake | jsonl, found "csv"',
      },
    });
    expect(await invoke('eval.start', { dataset: { format: 'jsonl' }, modes: ['direct'] })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('dataset.path: expected a file path') },
    });
    expect(await invoke('eval.start', { dataset: { format: 'jsonl', path: dataset }, modes: [] })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('modes: expected a non-empty subset') },
    });
    expect(
      await invoke('eval.start', { dataset: { format: 'jsonl', path: dataset }, modes: ['direct'] }),
    ).toMatchObject({
      ok: false,
      error: { code: 'NOT_AVAILABLE' },
    });
    expect(await invoke('eval.export', { evalId: 'x', format: 'xlsx' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await invoke('eval.resume', {})).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await invoke('eval.list', undefined)).toEqual({ ok: true, result: [] });
  });
});
