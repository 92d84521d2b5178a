import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventChannel, EventPayload } from '../../../shared/contract';
import { thumbnailPng } from '../../knowledge/cases/decodeImage';
import { KnowledgeService } from '../../knowledge/KnowledgeService';
import { HashingEmbedder } from '../../knowledge/testSupport/HashingEmbedder';
import { projectRoot } from '../../knowledge/testSupport/sharedData';
import { RunRegistry } from '../../runs/RunRegistry';
import { openStore, type Db } from '../../store/openStore';
import { EventBus } from '../EventBus';
import { createKnowledgeHandlers } from './knowledgeHandlers';

const bundledDir = join(projectRoot, 'resources/knowledge/medquad');
let dir: string;
let db: Db;
let bus: EventBus;
let runs: RunRegistry;
let events: { event: EventChannel; payload: unknown }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-handlers-'));
  db = openStore(join(dir, 'kb.sqlite'));
  bus = new EventBus();
  runs = new RunRegistry(bus);
  events = [];
  bus.subscribe((event, payload) => events.push({ event, payload }));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function of<E extends EventChannel>(event: E): EventPayload<E>[] {
  return events.filter((e) => e.event === event).map((e) => e.payload as EventPayload<E>);
}

describe('knowledge handlers', () => {
  it('ingests as a run with one progress event per file, then searches with the retrieval settings', async () => {
    const knowledge = new KnowledgeService(db);
    const handlers = createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => ({ k: 2, mode: 'hybrid' }),
    });
    const { runId } = handlers['knowledge.ingest']({
      paths: [join(bundledDir, '9_cdc_qa.jsonl.gz'), join(dir, 'nope.txt')],
    }) as { runId: string };
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });
    const progress = of('knowledge.ingestProgress');
    expect(progress.map((p) => [p.runId, p.filesDone, p.filesTotal, p.status])).toEqual([
      [runId, 1, 2, 'ingested'],
      [runId, 2, 2, 'failed'],
    ]);
    expect(progress[1]!.error?.code).toBe('NOT_FOUND');
    expect(of('runs.finished')).toEqual([{ runId, kind: 'knowledge.ingest', outcome: { status: 'completed' } }]);

    const response = await handlers['knowledge.search']({ query: 'What is taeniasis?' });
    expect(response.hits).toHaveLength(2);
    expect(response).toMatchObject({ requestedMode: 'hybrid', mode: 'lexical', lexicalOnly: true });
    const stats = await handlers['knowledge.stats']();
    expect(stats.sources).toHaveLength(1);
    const passage = await handlers['knowledge.passage']({ passageId: response.hits[0]!.passageId });
    expect(passage.text).toBe(response.hits[0]!.text);
    const after = await handlers['knowledge.removeSource']({ sourceId: stats.sources[0]!.id });
    expect(after.passages).toBe(0);
  });

  it('cancels an ingestion run through runs.cancel semantics', async () => {
    const knowledge = new KnowledgeService(db);
    const handlers = createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => ({ k: 3, mode: 'lexical' }),
    });
    const { runId } = handlers['knowledge.ingest']({ paths: [bundledDir] }) as { runId: string };
    bus.subscribe((event) => {
      if (event === 'knowledge.ingestProgress') runs.cancel(runId);
    });
    expect(await runs.waitFor(runId)).toEqual({ status: 'cancelled' });
    expect(of('knowledge.ingestProgress')).toHaveLength(1);
    expect(knowledge.stats().sources).toHaveLength(1);
  });

  it('embeds pending passages as a run with progress, and refuses without a model', async () => {
    const knowledge = new KnowledgeService(db);
    const handlers = createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => ({ k: 3, mode: 'hybrid' }),
    });
    expect(() => handlers['knowledge.embed']()).toThrow(expect.objectContaining({ code: 'NOT_AVAILABLE' }));
    await knowledge.ingest([join(bundledDir, '9_cdc_qa.jsonl.gz')]);
    knowledge.setEmbedder(new HashingEmbedder(32));
    const { runId } = handlers['knowledge.embed']() as { runId: string };
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });
    const last = of('knowledge.embedProgress').at(-1)!;
    expect(last).toMatchObject({ runId, model: 'hashing-embedder' });
    expect(last.done).toBe(last.total);
    expect((await handlers['knowledge.search']({ query: 'tapeworm' })).mode).toBe('hybrid');
  });

  it('rejects bad requests with INVALID_INPUT and instance queries without a renderer with NOT_AVAILABLE', async () => {
    const knowledge = new KnowledgeService(db);
    const handlers = createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => ({ k: 3, mode: 'lexical' }),
    });
    expect(() => handlers['knowledge.ingest']({ paths: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => handlers['knowledge.casesIngest']({ folder: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    await expect(
      handlers['knowledge.casesSearch']({ image: { kind: 'instance', sopInstanceUid: '1.2.3', frame: 0 } }),
    ).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    await expect(handlers['knowledge.casesSearch']({ image: { kind: 'url' } as never })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(Promise.resolve().then(() => handlers['knowledge.caseImage']({ imageId: 42 }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('searches cases by a DICOM instance through the study renderer, and serves case thumbnails', async () => {
    const knowledge = new KnowledgeService(db);
    const pixels = new Uint8Array(48 * 48).map((_, i) => ((i % 48) * 5) % 256);
    const png = thumbnailPng({ width: 48, height: 48, channels: 1, data: pixels }, 48);
    const folder = join(dir, 'cases');
    mkdirSync(folder);
    writeFileSync(join(folder, 'ramp.png'), png);
    writeFileSync(join(folder, 'cases.jsonl'), JSON.stringify({ id: 'r', title: 'Ramp', images: ['ramp.png'] }));
    const rendered: string[] = [];
    const handlers = createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => ({ k: 3, mode: 'lexical' }),
      renderInstance: async (uid, frame) => {
        rendered.push(`${uid}#${frame}`);
        return png;
      },
    });
    const { runId } = handlers['knowledge.casesIngest']({ folder }) as { runId: string };
    expect(await runs.waitFor(runId)).toEqual({ status: 'completed' });
    expect(of('knowledge.ingestProgress')).toMatchObject([{ runId, file: 'r', status: 'ingested', passagesAdded: 1 }]);
    const hits = await handlers['knowledge.casesSearch']({
      image: { kind: 'instance', sopInstanceUid: '1.2.3', frame: 2 },
    });
    expect(rendered).toEqual(['1.2.3#2']);
    expect(hits).toMatchObject([{ title: 'Ramp', rank: 1 }]);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    const thumbnail = await handlers['knowledge.caseImage']({ imageId: hits[0]!.imageId, maxSize: 16 });
    expect([...thumbnail.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });

  it('answers NOT_AVAILABLE everywhere when no service is configured', () => {
    const handlers = createKnowledgeHandlers();
    expect(() => handlers['knowledge.stats']()).toThrow(expect.objectContaining({ code: 'NOT_AVAILABLE' }));
  });
});
