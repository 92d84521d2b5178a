import { describe, expect, it } from 'vitest';
import type { IngestProgressEvent, RunOutcome } from '../../shared/contract';
import { CancelledError } from '../errors/AppError';
import { KnowledgeGate } from './KnowledgeGate';

const progress = (runId: string, filesDone: number): IngestProgressEvent => ({
  runId,
  file: `f${filesDone}.jsonl.gz`,
  filesDone,
  filesTotal: 7,
  passagesAdded: 100,
  status: 'ingested',
  reason: null,
  error: null,
});

describe('KnowledgeGate', () => {
  it('is ready when nothing is built; holds waiters while the install runs, counting only its own files', async () => {
    const gate = new KnowledgeGate();
    expect(gate.snapshot()).toMatchObject({ state: 'ready', runId: null });
    await gate.wait();

    let finish!: (outcome: RunOutcome) => void;
    gate.follow('install', new Promise((resolve) => (finish = resolve)));
    gate.progress(progress('install', 2));
    gate.progress(progress('someone-else', 5));
    expect(gate.snapshot()).toEqual({ state: 'building', runId: 'install', filesDone: 2, filesTotal: 7, error: null });
    let released = false;
    const waiting = gate.wait().then(() => (released = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(released).toBe(false);
    finish({ status: 'failed', error: { code: 'SQLITE_FULL', message: 'disk full' } });
    await waiting;
    // A failed install opens the gate too (runs go on with what is there), and says why.
    expect(gate.snapshot()).toMatchObject({ state: 'ready', runId: 'install', error: { code: 'SQLITE_FULL' } });
  });

  it('stops waiting with CancelledError when the waiting run is cancelled', async () => {
    const gate = new KnowledgeGate();
    gate.follow('install', new Promise(() => undefined));
    const controller = new AbortController();
    const waiting = gate.wait(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    await expect(gate.wait(controller.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(gate.building).toBe(true);
  });
});
