import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../shared/contract';
import { defaultSettings } from '../settings/defaultSettings';
import { openStore, type Db } from '../store/openStore';
import { AuditStore } from './AuditStore';

function record(runId: string, startedAt: string, patch: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    startedAt,
    finishedAt: startedAt,
    status: 'completed',
    question: `question ${runId}`,
    choices: null,
    answer: 'A',
    confidence: 0.5,
    mode: 'rwr+cdir',
    cdirTriggered: false,
    studyInstanceUid: null,
    replayOf: null,
    sopInstanceUid: null,
    frame: null,
    imageSha256: null,
    imageMime: null,
    window: null,
    attempts: [],
    keptAttempt: 1,
    similarCase: null,
    cdir: { decision: 'not-needed', confidence: 0.95, threshold: 0.9, reason: 'x', caseImageSha256: null, placement: null },
    settings: defaultSettings(),
    models: { reasoner: 'r', mmproj: null, embedding: null, knowledgeBase: null },
    modelNames: { reasoner: 'r', mmproj: null },
    seed: 42,
    timings: { totalMs: 1, modelMs: 1, retrievalMs: 0 },
    endReason: 'answered',
    error: null,
    replayMatch: null,
    ...patch,
  };
}

let db: Db;
let audit: AuditStore;

beforeEach(() => {
  db = openStore(':memory:');
  audit = new AuditStore(db);
});
afterEach(() => db.close());

describe('AuditStore', () => {
  it('stores a record with its image once per hash and lists newest first, by study', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    audit.save(record('a', '2025-01-01T10:00:00.000Z', { imageSha256: 'img', studyInstanceUid: '1.2' }), [{ sha256: 'img', mime: 'image/png', bytes }]);
    audit.save(record('b', '2025-01-02T10:00:00.000Z', { imageSha256: 'img' }), [{ sha256: 'img', mime: 'image/png', bytes }]);
    audit.save(record('c', '2025-01-03T10:00:00.000Z'));
    expect(audit.list().map((r) => r.runId)).toEqual(['c', 'b', 'a']);
    expect(audit.list({ limit: 1 }).map((r) => r.runId)).toEqual(['c']);
    expect(audit.list({ studyInstanceUid: '1.2' }).map((r) => r.runId)).toEqual(['a']);
    expect(audit.get('b')).toEqual(record('b', '2025-01-02T10:00:00.000Z', { imageSha256: 'img' }));
    expect(audit.image('img')).toEqual({ mime: 'image/png', bytes });
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_images').get() as { n: number }).n).toBe(1);
  });

  it('refuses a record whose image bytes are missing, and stores nothing of it', () => {
    expect(() => audit.save(record('x', '2025-01-01T00:00:00.000Z', { imageSha256: 'nope' }))).toThrow(/expected the bytes of image nope/);
    expect(audit.has('x')).toBe(false);
    expect(() => audit.save(record('y', '2025-01-01T00:00:00.000Z', { imageSha256: 'i2' }), [])).toThrow();
    expect(audit.list()).toEqual([]);
  });

  it('never overwrites a record', () => {
    audit.save(record('a', '2025-01-01T00:00:00.000Z'));
    expect(() => audit.save(record('a', '2025-01-01T00:00:00.000Z', { answer: 'B' }))).toThrow(/UNIQUE/);
    expect(audit.get('a').answer).toBe('A');
  });

  it('validates the list limit and names a missing run', () => {
    expect(() => audit.list({ limit: 0 })).toThrow(/expected an integer from 1 to 1000, found 0/);
    expect(() => audit.get('missing')).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
  });

  it('migrates once per store', () => {
    expect(() => new AuditStore(db)).not.toThrow();
    expect(db.prepare("SELECT version FROM schema_migrations WHERE domain = 'audit'").all()).toEqual([{ version: 1 }]);
  });
});
