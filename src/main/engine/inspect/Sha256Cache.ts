import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Where computed hashes are kept, keyed by what identifies one version of a file. */
export interface HashStore {
  get(path: string, sizeBytes: number, mtimeMs: number): string | null;
  set(path: string, sizeBytes: number, mtimeMs: number, sha256: string): void;
}

export class MemoryHashStore implements HashStore {
  readonly #entries = new Map<string, string>();
  get(path: string, sizeBytes: number, mtimeMs: number): string | null {
    return this.#entries.get(`${path}\0${sizeBytes}\0${mtimeMs}`) ?? null;
  }
  set(path: string, sizeBytes: number, mtimeMs: number, sha256: string): void {
    this.#entries.set(`${path}\0${sizeBytes}\0${mtimeMs}`, sha256);
  }
}

/** SHA-256 of model files, computed once per (path, size, mtime) and shared between concurrent callers. */
export class Sha256Cache {
  readonly #pending = new Map<string, Promise<string>>();
  /** Files hashed (not served from the store) since construction; for tests and diagnostics. */
  computed = 0;

  constructor(private readonly store: HashStore = new MemoryHashStore()) {}

  async hash(path: string): Promise<string> {
    const info = await stat(path);
    const cached = this.store.get(path, info.size, info.mtimeMs);
    if (cached) return cached;
    const key = `${path}\0${info.size}\0${info.mtimeMs}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = sha256File(path)
        .then((sha256) => {
          this.computed++;
          this.store.set(path, info.size, info.mtimeMs, sha256);
          return sha256;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
