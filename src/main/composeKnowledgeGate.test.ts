import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestProgressEvent, KnowledgeReadiness } from '../shared/contract';
import { composeApp, type App } from './compose';

const resourcesDir = resolve(import.meta.dirname, '../../resources');

/**
 * The composition wires the bundled knowledge base's first-start install to the gate that reasoning runs and model
 * evaluations wait on, and to `reasoning.readiness` (what the UI shows as "building knowledge base…").
 */
describe('knowledge readiness on a fresh data directory', () => {
  let app: App | null = null;
  let dataDir = '';
  afterEach(async () => {
    await app?.dispose();
    app = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports building while the bundled install runs, with its file count, then ready', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'medrwr-compose-gate-'));
    app = await composeApp({ dataDir, resourcesDir, version: 'test', dialogs: { open: async () => [] } });
    const progress: IngestProgressEvent[] = [];
    app.bus.subscribe((event, payload) => {
      if (event === 'knowledge.ingestProgress') progress.push(payload as IngestProgressEvent);
    });
    const readiness = (): KnowledgeReadiness => app!.handlers['reasoning.readiness']() as KnowledgeReadiness;
    const building = readiness();
    expect(building).toMatchObject({ state: 'building', filesDone: 0, error: null });
    expect(app.knowledgeGate.building).toBe(true);
    await app.knowledgeGate.wait();
    const ready = readiness();
    expect(ready).toMatchObject({ state: 'ready', runId: building.runId, error: null });
    expect(ready.filesDone).toBeGreaterThan(0);
    expect(ready.filesDone).toBe(ready.filesTotal);
    expect(progress.at(-1)).toMatchObject({ runId: building.runId, filesDone: ready.filesDone });
    expect(app.knowledge.stats().passages).toBeGreaterThan(1000);
  });

  it('is ready at once when the bundled knowledge base is not installed', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'medrwr-compose-gate-'));
    app = await composeApp({ dataDir, resourcesDir, version: 'test', dialogs: { open: async () => [] }, installBundledKnowledge: false });
    expect(app.handlers['reasoning.readiness']()).toEqual({ state: 'ready', runId: null, filesDone: 0, filesTotal: null, error: null });
  });
});
