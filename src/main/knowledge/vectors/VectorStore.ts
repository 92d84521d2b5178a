import type { Db } from '../../store/openStore';
import { codeBytes, HammingIndex, signBits, type NearestOptions } from './hammingWasm';

/** What identifies an embedding model's vector space: vectors of two identities are never compared. */
export interface EmbeddingModelRef {
  name: string;
  sha256: string;
  dims: number;
}

export interface VectorMatch {
  passageId: number;
  /** Cosine similarity (vectors are stored unit-length). */
  similarity: number;
}

export interface StoredModel extends EmbeddingModelRef {
  id: number;
}

/** L2-normalises in place (a zero vector stays zero) and returns it. */
export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

function toFloat32(blob: Buffer): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}

function blob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * The vectors of one embedding model: a plain table of float32 vectors (B-tree point lookups for rescoring: ~30 µs,
 * where a `vec0` point lookup costs ~1 ms), a compact table of their 1-bit sign codes, which feed an in-memory
 * Hamming prefilter (see `searchBinary`), and a sqlite-vec `vec0` table (float32, cosine) for exact KNN.
 * Each model identity (name + sha256 + dims) gets its own tables, so a changed model starts from zero vectors
 * instead of being compared against another model's space.
 */
export class VectorStore {
  readonly #db: Db;
  readonly #vecTable: string;
  readonly #vectorsTable: string;
  readonly #bitsTable: string;
  readonly #insertBits;
  readonly #insertKnn;
  readonly #insertVector;
  readonly #getVectors;
  readonly #knn;
  readonly #count;
  readonly #codesAfter;
  #binary: { index: HammingIndex; ids: Int32Array } | null = null;
  /** The prefilter while it is being read, batch by batch (see warmUp). */
  #building: PrefilterInProgress | null = null;
  #countCache: number | null = null;
  readonly #countUpTo;
  readonly #atLeast = new Map<number, boolean>();

  private constructor(
    db: Db,
    readonly model: StoredModel,
  ) {
    this.#db = db;
    this.#vecTable = `kb_vec_${model.id}`;
    this.#vectorsTable = `kb_vectors_${model.id}`;
    this.#bitsTable = `kb_vecbits_${model.id}`;
    db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS ${this.#vecTable} USING vec0 (embedding float[${model.dims}] distance_metric=cosine)`,
    );
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${this.#vectorsTable} (passage_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)`,
    );
    // The codes apart from the vectors: loading 1M codes reads ~140 MB instead of walking 4 GB of rows.
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.#bitsTable} (passage_id INTEGER PRIMARY KEY, bits BLOB NOT NULL)`);
    this.#insertBits = db.prepare(`INSERT OR REPLACE INTO ${this.#bitsTable} (passage_id, bits) VALUES (?, ?)`);
    this.#insertKnn = db.prepare(`INSERT OR REPLACE INTO ${this.#vecTable} (rowid, embedding) VALUES (?, ?)`);
    this.#insertVector = db.prepare(
      `INSERT OR REPLACE INTO ${this.#vectorsTable} (passage_id, embedding) VALUES (?, ?)`,
    );
    this.#getVectors = db.prepare<[string], { passage_id: number; embedding: Buffer }>(
      `SELECT passage_id, embedding FROM ${this.#vectorsTable} WHERE passage_id IN (SELECT value FROM json_each(?))`,
    );
    this.#knn = db.prepare<[Buffer, number], { rowid: number; distance: number }>(
      `SELECT rowid, distance FROM ${this.#vecTable} WHERE embedding MATCH ? AND k = ? ORDER BY distance`,
    );
    this.#count = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${this.#bitsTable}`);
    this.#countUpTo = db.prepare<[number], { n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${this.#bitsTable} LIMIT ?)`,
    );
    this.#codesAfter = db.prepare<[number, number], { passage_id: number; bits: Buffer }>(
      `SELECT passage_id, bits FROM ${this.#bitsTable} WHERE passage_id > ? ORDER BY passage_id LIMIT ?`,
    );
  }

  /** Opens (creating on first use) the vector tables of a model identity. */
  static open(db: Db, model: EmbeddingModelRef): VectorStore {
    if (!Number.isInteger(model.dims) || model.dims < 1 || model.dims > 8192) {
      throw new RangeError(`embedding dimensions: expected an integer in 1..8192, found ${model.dims}`);
    }
    db.prepare(
      'INSERT INTO kb_embedding_models (name, sha256, dims, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(model.name, model.sha256, model.dims, new Date().toISOString());
    const row = db
      .prepare<[string, string, number], { id: number }>(
        'SELECT id FROM kb_embedding_models WHERE name = ? AND sha256 = ? AND dims = ?',
      )
      .get(model.name, model.sha256, model.dims)!;
    return new VectorStore(db, { ...model, id: row.id });
  }

  static models(db: Db): StoredModel[] {
    return db.prepare<[], StoredModel>('SELECT id, name, sha256, dims FROM kb_embedding_models ORDER BY id').all();
  }

  /** Deletes the vectors (of every model) of the passages of a source; call before deleting the passages. */
  static deleteSourceVectors(db: Db, sourceId: number): void {
    for (const model of VectorStore.models(db)) {
      for (const table of [`kb_vec_${model.id}`, `kb_vectors_${model.id}`, `kb_vecbits_${model.id}`]) {
        const key = table.startsWith('kb_vec_') ? 'rowid' : 'passage_id';
        db.prepare(`DELETE FROM ${table} WHERE ${key} IN (SELECT id FROM kb_passages WHERE source_id = ?)`).run(
          sourceId,
        );
      }
    }
  }

  get dims(): number {
    return this.model.dims;
  }

  /** Stores unit-length copies of the vectors; runs inside the caller's transaction. */
  insert(passageIds: readonly number[], vectors: readonly Float32Array[]): void {
    const bits = new Uint8Array(codeBytes(this.dims));
    passageIds.forEach((id, i) => {
      const vector = vectors[i];
      if (!vector || vector.length !== this.dims) {
        throw new RangeError(
          `embedding of passage ${id}: expected ${this.dims} dimensions, found ${vector?.length ?? 'none'}`,
        );
      }
      const unit = normalize(Float32Array.from(vector));
      this.#insertKnn.run(BigInt(id), blob(unit));
      this.#insertVector.run(id, blob(unit));
      this.#insertBits.run(id, Buffer.from(signBits(unit, bits)));
    });
    this.invalidate();
  }

  /**
   * Vectors stored for this model (cached until the next insert or invalidate). COUNT(*) reads the whole code table
   * (seconds at 1M vectors with a cold page cache): searches ask `atLeast` instead, and a finished warm-up sets it.
   */
  count(): number {
    this.#countCache ??= this.#count.get()!.n;
    return this.#countCache;
  }

  /** Whether at least `n` vectors are stored, reading at most `n` rows (cached like `count`). */
  atLeast(n: number): boolean {
    if (this.#countCache !== null) return this.#countCache >= n;
    let known = this.#atLeast.get(n);
    if (known === undefined) this.#atLeast.set(n, (known = this.#countUpTo.get(n)!.n >= n));
    return known;
  }

  /** Passages that have no vector of this model yet, in id order. */
  missingPassageIds(limit: number, afterId = 0): number[] {
    return this.#db
      .prepare<[number, number], { id: number }>(
        `SELECT id FROM kb_passages WHERE id > ? AND id NOT IN (SELECT passage_id FROM ${this.#bitsTable}) ORDER BY id LIMIT ?`,
      )
      .all(afterId, limit)
      .map((r) => r.id);
  }

  /** Exact KNN by sqlite-vec (a full scan of the float32 vectors in C). */
  searchExact(query: Float32Array, k: number): VectorMatch[] {
    const unit = normalize(Float32Array.from(query));
    return this.#knn.all(blob(unit), k).map((r) => ({ passageId: Number(r.rowid), similarity: 1 - r.distance }));
  }

  /**
   * 1-bit prefilter + exact rescoring: the Hamming distance of sign codes (in memory, WebAssembly; two passes on large
   * indexes, see HammingIndex.nearest) picks `candidates` passages, whose float32 vectors are then scored exactly.
   * Defaults to max(40·k, 400) candidates.
   */
  searchBinary(
    query: Float32Array,
    k: number,
    candidates = Math.max(40 * k, 400),
    options: NearestOptions = {},
  ): VectorMatch[] {
    const unit = normalize(Float32Array.from(query));
    const binary = this.#loadBinary();
    const picked = binary.index.nearest(signBits(unit), candidates, options);
    // In id order, so the B-tree is walked forward once.
    const ids = Array.from(picked, (slot) => binary.ids[slot]!).sort((a, b) => a - b);
    const scored: VectorMatch[] = [];
    for (const row of this.#getVectors.iterate(JSON.stringify(ids))) {
      const vector = toFloat32(row.embedding);
      let dot = 0;
      for (let d = 0; d < vector.length; d++) dot += vector[d]! * unit[d]!;
      scored.push({ passageId: row.passage_id, similarity: dot });
    }
    return scored.sort((a, b) => b.similarity - a.similarity || a.passageId - b.passageId).slice(0, k);
  }

  /** Drops the in-memory prefilter (after vectors were deleted elsewhere); it is rebuilt on the next search. */
  invalidate(): void {
    this.#binary = null;
    this.#building = null;
    this.#countCache = null;
    this.#atLeast.clear();
  }

  /**
   * Reads the prefilter's codes into memory a batch at a time, yielding to the event loop between batches, so that
   * the first search over a large base does not wait for them (1M codes take seconds to read) and the process stays
   * responsive meanwhile. A search that comes first reads what is left at once; an insert meanwhile drops the
   * partial prefilter and ends the warm-up (the next search reads it whole).
   */
  async warmUp(signal?: AbortSignal): Promise<void> {
    while (!this.#binary && !signal?.aborted) {
      const building = this.#startBuilding();
      if (this.#readCodes(building, warmUpBatch)) return;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#building !== building) return;
    }
  }

  get warm(): boolean {
    return this.#binary !== null;
  }

  #loadBinary(): { index: HammingIndex; ids: Int32Array } {
    if (this.#binary) return this.#binary;
    const building = this.#startBuilding();
    while (!this.#readCodes(building, warmUpBatch));
    return this.#binary!;
  }

  #startBuilding(): PrefilterInProgress {
    this.#building ??= { index: new HammingIndex(this.dims), ids: new Int32Array(1 << 16), loaded: 0, lastId: 0 };
    return this.#building;
  }

  /** Appends up to `limit` more codes; true once all are in (the prefilter is then ready, and the count known). */
  #readCodes(building: PrefilterInProgress, limit: number): boolean {
    const { index } = building;
    const rows = this.#codesAfter.all(building.lastId, limit);
    if (building.loaded + rows.length > building.ids.length) {
      const grown = new Int32Array(Math.max(2 * building.ids.length, building.loaded + rows.length));
      grown.set(building.ids);
      building.ids = grown;
    }
    if (rows.length > 0) {
      const codes = new Uint8Array(rows.length * index.bytesPerCode);
      rows.forEach((row, r) => {
        building.ids[building.loaded + r] = row.passage_id;
        codes.set(row.bits, r * index.bytesPerCode);
      });
      index.append(codes);
      building.loaded += rows.length;
      building.lastId = rows[rows.length - 1]!.passage_id;
    }
    if (rows.length === limit) return false;
    this.#binary = { index, ids: building.ids.subarray(0, building.loaded) };
    this.#countCache = building.loaded;
    this.#building = null;
    return true;
  }
}

interface PrefilterInProgress {
  index: HammingIndex;
  /** Passage id of each code slot (grown as codes are read). */
  ids: Int32Array;
  loaded: number;
  lastId: number;
}

/** Codes read per step of the prefilter's warm-up: 10–40 ms of work each at 1024 bits (more with a cold disk). */
const warmUpBatch = 4096;
