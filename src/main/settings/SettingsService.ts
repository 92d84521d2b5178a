import type { Settings, SettingsPatch } from '../../shared/contract';
import type { Db } from '../store/openStore';
import { migrate } from '../store/migrations';
import { defaultSettings } from './defaultSettings';
import { applySettingsPatch, reconcileSettings } from './validateSettings';

type Listener = (settings: Settings, previous: Settings) => void;

/** Typed settings persisted in the app's SQLite store; every change is validated before it is written. */
export class SettingsService {
  readonly #read;
  readonly #write;
  readonly #listeners = new Set<Listener>();
  #current: Settings;

  constructor(db: Db, private readonly defaults: Settings = defaultSettings()) {
    migrate(db, 'settings', [
      {
        version: 1,
        description: 'settings as one JSON document',
        up: (d) => d.exec('CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)'),
      },
    ]);
    this.#read = db.prepare<[], { json: string }>('SELECT json FROM settings WHERE id = 1');
    this.#write = db.prepare<[string]>(
      'INSERT INTO settings (id, json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json',
    );
    const row = this.#read.get();
    this.#current = reconcileSettings(row ? (JSON.parse(row.json) as unknown) : undefined, this.defaults);
  }

  get(): Settings {
    return structuredClone(this.#current);
  }

  update(patch: SettingsPatch): Settings {
    const previous = this.#current;
    const next = applySettingsPatch(previous, patch);
    this.#write.run(JSON.stringify(next));
    this.#current = next;
    for (const listener of this.#listeners) listener(this.get(), structuredClone(previous));
    return this.get();
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
