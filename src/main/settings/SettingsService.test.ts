import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Db } from '../store/openStore';
import { defaultSettings } from './defaultSettings';
import { SettingsService } from './SettingsService';

describe('SettingsService', () => {
  const dirs: string[] = [];
  const dbs: Db[] = [];
  const freshDb = (): { db: Db; path: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'medrwr-settings-'));
    dirs.push(dir);
    const path = join(dir, 'store.sqlite');
    const db = openStore(path);
    dbs.push(db);
    return { db, path };
  };
  afterEach(() => {
    dbs.splice(0).forEach((db) => db.open && db.close());
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('starts from the Med-RwR defaults: k 3, 3 rounds, CDIR below 0.9, greedy', () => {
    const settings = new SettingsService(freshDb().db).get();
    expect(settings.retrieval).toEqual({ k: 3, maxRounds: 3, mode: 'hybrid' });
    expect(settings.reasoning.cdirThreshold).toBe(0.9);
    expect(settings.reasoning.temperature).toBe(0);
    expect(settings.engine.threads).toBeNull();
  });

  it('persists a validated change across reopening the store', () => {
    const { db, path } = freshDb();
    new SettingsService(db).update({ retrieval: { k: 5 }, models: { reasoner: '/models/medrwr.gguf' } });
    db.close();
    const reopened = openStore(path);
    dbs.push(reopened);
    const settings = new SettingsService(reopened).get();
    expect(settings.retrieval.k).toBe(5);
    expect(settings.models.reasoner).toBe('/models/medrwr.gguf');
    expect(settings.retrieval.maxRounds).toBe(3);
  });

  it.each([
    [{ retrieval: { k: 0 } }, /settings\.retrieval\.k: expected an integer from 1 to 50, found 0/],
    [{ reasoning: { cdirThreshold: 1.5 } }, /cdirThreshold: expected a number from 0 to 1, found 1\.5/],
    [{ engine: { gpuLayers: 'max' } }, /gpuLayers: expected one of "auto" or an integer from 0 to 1000, found "max"/],
    [{ retrieval: { mode: 'semantic' } }, /mode: expected one of "lexical", "vector", "hybrid", found "semantic"/],
    [{ models: { reasoner: '' } }, /reasoner: expected a non-empty file path, found ""/],
    [{ colour: { theme: 'dark' } }, /settings section: expected one of models, engine, retrieval, reasoning, found "colour"/],
    [{ engine: { turbo: true } }, /settings\.engine key: expected one of threads, .*, found "turbo"/],
  ])('refuses %j with a message naming what was expected and found', (patch, message) => {
    const service = new SettingsService(freshDb().db);
    const before = service.get();
    expect(() => service.update(patch as never)).toThrow(message);
    expect(service.get()).toEqual(before);
  });

  it('refuses a whole patch when any part is invalid, leaving stored settings untouched', () => {
    const { db } = freshDb();
    const service = new SettingsService(db);
    expect(() => service.update({ retrieval: { k: 7, maxRounds: -1 } })).toThrow(/maxRounds/);
    expect(new SettingsService(db).get().retrieval.k).toBe(3);
  });

  it('notifies listeners with the new and previous settings', () => {
    const service = new SettingsService(freshDb().db);
    const seen: [number, number][] = [];
    const unsubscribe = service.onChange((next, previous) => seen.push([next.retrieval.k, previous.retrieval.k]));
    service.update({ retrieval: { k: 4 } });
    unsubscribe();
    service.update({ retrieval: { k: 6 } });
    expect(seen).toEqual([[4, 3]]);
  });

  it('keeps valid stored values and replaces invalid or unknown ones with defaults after an upgrade', () => {
    const { db } = freshDb();
    new SettingsService(db);
    const stored = { ...defaultSettings(), retrieval: { k: 9, maxRounds: 'many', removedKey: 1 } };
    db.prepare('UPDATE settings SET json = ? WHERE id = 1').run(JSON.stringify(stored));
    db.prepare("INSERT OR IGNORE INTO settings (id, json) VALUES (1, ?)").run(JSON.stringify(stored));
    const settings = new SettingsService(db).get();
    expect(settings.retrieval).toEqual({ k: 9, maxRounds: 3, mode: 'hybrid' });
  });
});
