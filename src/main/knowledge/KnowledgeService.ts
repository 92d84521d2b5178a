import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  CaseSearchHit,
  EmbeddingModelInfo,
  IngestFileStatus,
  KnowledgeStats,
  Passage,
  RetrievalMode,
  SearchHit,
  SearchResponse,
} from '../../shared/contract';
import type { Embedder, Reranker } from '../engine/ports';
import { AppError, CancelledError, InvalidInputError, throwIfAborted, toErrorPayload } from '../errors/AppError';
import { inlineWalCheckpointer, type WalCheckpointer } from '../store/WalCheckpointer';
import { migrate } from '../store/migrations';
import type { Db } from '../store/openStore';
import {
  CaseLibrary,
  type CaseIngestOptions,
  type CaseIngestSummary,
  type CaseSearchOptions,
} from './cases/CaseLibrary';
import type { ImageEncoder } from './cases/ImageEncoder';
import { NotFoundError } from './errors';
import { isSupportedFile, sha256Hex } from './formats/readSource';
import { textHashAt, type PreparedSource } from './ingest/prepareSource';
import { inlineSourcePreparer, type SourcePreparer } from './ingest/SourcePreparer';
import { reciprocalRankFusion } from './search/reciprocalRankFusion';
import { knowledgeMigrations } from './store/knowledgeSchema';
import { embeddingText, PassageRepository } from './store/PassageRepository';
import type { ChunkOptions } from './text/chunkDocument';
import { toFtsQuery } from './text/ftsQuery';
import { VectorStore, type VectorMatch } from './vectors/VectorStore';

export interface KnowledgeServiceOptions {
  /** Embedding model for vector and hybrid retrieval; null = lexical-only. Defaults to null. */
  embedder?: Embedder | null;
  /** Cross-encoder applied to the fused candidates. Defaults to null (no rerank). */
  reranker?: Reranker | null;
  /** Image descriptor for the case corpus. Defaults to the built-in model-free descriptor. */
  imageEncoder?: ImageEncoder;
  chunking?: ChunkOptions;
  /**
   * Where files are parsed and chunked. Defaults to inline (this thread); the app passes a WorkerSourcePreparer so
   * that parsing the next file overlaps with writing this one.
   */
  preparer?: SourcePreparer;
  /**
   * Who copies the WAL into the database file after an ingestion run. Defaults to inline (this thread); the app passes
   * a BackgroundWalCheckpointer, so the run's end does not wait for the copy.
   */
  walCheckpointer?: WalCheckpointer;
  /** Passages per search when the caller gives no k. Defaults to 3 (as Med-RwR). */
  defaultK?: number;
  /**
   * Vector search strategy: 'exact' = sqlite-vec full scan; 'binary' = 1-bit Hamming prefilter + exact rescoring;
   * 'auto' = binary from `binaryFrom` vectors on when the model has ≥ 256 dims. Defaults to 'auto'.
   */
  vectorSearch?: 'auto' | 'exact' | 'binary';
  /** Defaults to 10,000 vectors (at 10k 1024-d vectors the exact scan takes ~70 ms, the prefilter ~20 ms, recall 0.99). */
  binaryFrom?: number;
  /** Texts per embedding call during ingestion. Defaults to 32. */
  embeddingBatch?: number;
}

export interface SearchOptions {
  /** Defaults to the service's defaultK (3). At most 100. */
  k?: number;
  /** Defaults to 'hybrid'. */
  mode?: RetrievalMode;
  signal?: AbortSignal;
}

export interface IngestFileReport {
  file: string;
  status: IngestFileStatus;
  sourceId: number | null;
  passagesAdded: number;
  /** Passages whose text was already stored (skipped by hash). */
  duplicates: number;
  reason: string | null;
  error: { code: string; message: string } | null;
}

export interface IngestOptions {
  signal?: AbortSignal;
  /** Called after each file, whatever its outcome. */
  onProgress?: (report: IngestFileReport, filesDone: number, filesTotal: number) => void;
  /** Recorded on sources whose files state no license. */
  license?: string | null;
  attribution?: string | null;
  /** Defaults to 'user'. */
  origin?: 'bundled' | 'user';
  /**
   * Called inside a source's transaction after its rows are written and before the commit (auditing, crash tests).
   * Throwing rolls the source back.
   */
  beforeCommit?: (file: string, sourceId: number) => void;
}

export interface IngestSummary {
  files: IngestFileReport[];
  passagesAdded: number;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Defaults to 64 passages per call and per transaction. */
  batchSize?: number;
}

const maxK = 100;
/** Files read and parsed ahead of the one being written (memory: at most this many parsed files wait). */
const readAheadFiles = 2;
/** WAL pages (4 KiB) an ingestion run lets accumulate before SQLite checkpoints: 64 MiB. */
const bulkCheckpointPages = 16_384;

interface SourceRead {
  sha256: string;
  bytes: number;
  /** The stored source with the same bytes, if any (then nothing was parsed). */
  existing: number | null;
  prepared: PreparedSource | null;
}

/**
 * The knowledge base: sources → passages (with provenance) in the app's SQLite store, FTS5 lexical search,
 * sqlite-vec vectors tagged by embedding model, hybrid search by reciprocal rank fusion, an optional reranker,
 * and the image-case corpus for CDIR. Synchronous SQLite inside, async only where a model or a file is involved.
 */
export class KnowledgeService {
  readonly #db: Db;
  readonly #repo: PassageRepository;
  readonly #cases: CaseLibrary;
  readonly #chunking: ChunkOptions;
  readonly #preparer: SourcePreparer;
  readonly #walCheckpointer: WalCheckpointer;
  readonly #defaultK: number;
  readonly #vectorSearch: 'auto' | 'exact' | 'binary';
  readonly #binaryFrom: number;
  readonly #embeddingBatch: number;
  #embedder: Embedder | null = null;
  #vectors: VectorStore | null = null;
  #reranker: Reranker | null;
  /** Ingestions and embedding runs write one after the other (two runs over the same files must not race). */
  #writeQueue: Promise<unknown> = Promise.resolve();

  constructor(db: Db, options: KnowledgeServiceOptions = {}) {
    this.#db = db;
    migrate(db, 'knowledge', knowledgeMigrations);
    this.#repo = new PassageRepository(db);
    this.#cases = new CaseLibrary(db, options.imageEncoder);
    this.#chunking = options.chunking ?? {};
    this.#preparer = options.preparer ?? inlineSourcePreparer;
    this.#walCheckpointer = options.walCheckpointer ?? inlineWalCheckpointer;
    this.#defaultK = options.defaultK ?? 3;
    this.#vectorSearch = options.vectorSearch ?? 'auto';
    this.#binaryFrom = options.binaryFrom ?? 10_000;
    this.#embeddingBatch = options.embeddingBatch ?? 32;
    this.#reranker = options.reranker ?? null;
    this.setEmbedder(options.embedder ?? null);
  }

  /** Switches the embedding model (null = lexical only). Vectors of another model identity are never used. */
  setEmbedder(embedder: Embedder | null): void {
    this.#embedder = embedder;
    this.#vectors = embedder
      ? VectorStore.open(this.#db, {
          name: embedder.model.name,
          sha256: embedder.model.sha256,
          dims: embedder.dimensions,
        })
      : null;
  }

  setReranker(reranker: Reranker | null): void {
    this.#reranker = reranker;
  }

  get embeddingModel(): EmbeddingModelInfo | null {
    return this.#vectors
      ? { name: this.#vectors.model.name, sha256: this.#vectors.model.sha256, dims: this.#vectors.dims }
      : null;
  }

  /** The image-case corpus (CDIR). */
  get cases(): CaseLibrary {
    return this.#cases;
  }

  // ── search ────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Top-k passages for a query, with scores and provenance. The query is data: FTS5 syntax in it never raises.
   * 'vector' and 'hybrid' fall back to lexical (and say so) when no embedding model or no vectors are available.
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResponse> {
    const started = performance.now();
    if (typeof query !== 'string') throw new InvalidInputError('search query', 'a string', typeof query);
    const k = clampK(options.k ?? this.#defaultK);
    const requestedMode = options.mode ?? 'hybrid';
    if (!['lexical', 'vector', 'hybrid'].includes(requestedMode)) {
      throw new InvalidInputError('search mode', '"lexical", "vector" or "hybrid"', JSON.stringify(requestedMode));
    }
    throwIfAborted(options.signal, 'search');
    const depth = Math.max(50, 10 * k);

    let lexicalOnlyReason: string | null = null;
    if (requestedMode === 'lexical') lexicalOnlyReason = 'lexical retrieval was requested';
    else if (!this.#embedder || !this.#vectors) lexicalOnlyReason = 'no embedding model is configured';
    else if (!this.#vectors.atLeast(1)) {
      lexicalOnlyReason = `no passage has a vector from ${describeModel(this.embeddingModel!)} yet (run the embedding step)`;
    }
    const mode: RetrievalMode = lexicalOnlyReason ? 'lexical' : requestedMode;

    const lexical = mode === 'vector' ? [] : this.#lexical(query, depth);
    let vector: VectorMatch[] = [];
    if (mode !== 'lexical' && query.trim()) {
      const [embedded] = await this.#embedder!.embed([query], { signal: options.signal });
      throwIfAborted(options.signal, 'search');
      if (!embedded) throw new AppError('EMBEDDING_FAILED', 'embedding the query: expected one vector, found none');
      vector = this.#searchVectors(embedded, depth);
    }

    const lexicalScores = new Map(lexical.map((h) => [h.id, h.score]));
    const vectorScores = new Map(vector.map((h) => [h.passageId, h.similarity]));
    let ranked: { id: number; score: number }[] =
      mode === 'lexical'
        ? lexical
        : mode === 'vector'
          ? vector.map((v) => ({ id: v.passageId, score: v.similarity }))
          : reciprocalRankFusion([lexical.map((h) => h.id), vector.map((h) => h.passageId)]);

    let rerankScores: Map<number, number> | null = null;
    if (this.#reranker && ranked.length > 0) {
      const pool = ranked.slice(0, Math.max(20, 4 * k));
      const passages = this.#repo.passages(pool.map((r) => r.id));
      const scores = await this.#reranker.rank(
        query,
        passages.map((p) => embeddingText(p.title, p.provenance.section, p.text)),
        {
          signal: options.signal,
        },
      );
      throwIfAborted(options.signal, 'search');
      rerankScores = new Map(passages.map((p, i) => [p.id, scores[i] ?? Number.NEGATIVE_INFINITY]));
      ranked = passages.map((p) => ({ id: p.id, score: rerankScores!.get(p.id)! })).sort((a, b) => b.score - a.score);
    }

    const top = ranked.slice(0, k);
    const passages = this.#repo.passages(top.map((r) => r.id));
    const hits: SearchHit[] = passages.map((passage, i) => ({
      passageId: passage.id,
      rank: i + 1,
      score: top[i]!.score,
      lexicalScore: lexicalScores.get(passage.id) ?? null,
      vectorScore: vectorScores.get(passage.id) ?? null,
      rerankScore: rerankScores?.get(passage.id) ?? null,
      title: passage.title,
      text: passage.text,
      snippet: snippet(passage.text, query),
      provenance: passage.provenance,
    }));
    return {
      query,
      requestedMode,
      mode,
      lexicalOnly: mode === 'lexical',
      lexicalOnlyReason,
      embeddingModel: mode === 'lexical' || !this.embeddingModel ? null : describeModel(this.embeddingModel),
      reranked: rerankScores !== null,
      hits,
      tookMs: performance.now() - started,
    };
  }

  /** Lexical ranking only (bm25 over heading and text), for evaluation and for the hybrid fusion. */
  #lexical(query: string, limit: number): { id: number; score: number }[] {
    const match = toFtsQuery(query);
    return match ? this.#repo.lexical(match, limit) : [];
  }

  #searchVectors(query: Float32Array, k: number): VectorMatch[] {
    const vectors = this.#vectors!;
    return this.#usesPrefilter(vectors) ? vectors.searchBinary(query, k) : vectors.searchExact(query, k);
  }

  #usesPrefilter(vectors: VectorStore): boolean {
    return (
      this.#vectorSearch === 'binary' ||
      (this.#vectorSearch === 'auto' && vectors.dims >= 256 && vectors.atLeast(this.#binaryFrom))
    );
  }

  /**
   * Reads the vector prefilter of the current embedding model into memory in the background (batch by batch, between
   * other work), when searches will use it; the app calls it when a model is set, so the first search does not pay
   * for it. Resolves once the prefilter is ready, or at once when there is nothing to read.
   */
  async warmUpVectors(signal?: AbortSignal): Promise<void> {
    const vectors = this.#vectors;
    if (vectors && this.#usesPrefilter(vectors)) await vectors.warmUp(signal);
  }

  passage(id: number): Passage {
    const passage = this.#repo.passage(id);
    if (!passage) throw new NotFoundError('passage', id);
    return passage;
  }

  stats(): KnowledgeStats {
    return {
      sources: this.#repo.sources(),
      passages: this.#repo.passageCount(),
      vectors: this.#vectors?.count() ?? 0,
      embeddingModel: this.embeddingModel,
      ...this.#cases.counts(),
    };
  }

  // ── ingestion ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Ingests files and folders (recursively). One source = one transaction: a file that fails or is interrupted
   * leaves nothing behind, and running the same paths again skips what was committed (by the file's sha256) and
   * resumes with the rest. A bad file is reported and the batch goes on; cancellation stops between files.
   */
  ingest(paths: readonly string[], options: IngestOptions = {}): Promise<IngestSummary> {
    return this.#serialized(() => this.#ingest(paths, options));
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#writeQueue.then(work, work);
    this.#writeQueue = result.catch(() => undefined);
    return result;
  }

  async #ingest(paths: readonly string[], options: IngestOptions): Promise<IngestSummary> {
    const files = await expandPaths(paths, options.signal);
    // One WAL checkpoint after the run instead of one at nearly every source's commit (a source writes more than the
    // default 1,000 pages): pages rewritten by several sources (FTS5 segments, B-tree interiors) are copied once.
    const autocheckpoint = this.#db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.#db.pragma(`wal_autocheckpoint = ${Math.max(autocheckpoint, bulkCheckpointPages)}`);
    try {
      return await this.#ingestFiles(files, options);
    } finally {
      // (Unless the app closed the store meanwhile: the run's own outcome is what matters then.)
      if (this.#db.open) {
        this.#db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
        // Upkeep, not durability (every source was committed to the WAL): a failure leaves the copy to SQLite's next
        // automatic checkpoint.
        this.#walCheckpointer.checkpoint(this.#db).catch(() => undefined);
      }
    }
  }

  async #ingestFiles(files: ExpandedFile[], options: IngestOptions): Promise<IngestSummary> {
    const reports: IngestFileReport[] = [];
    // Read-ahead: while one file is written (synchronous SQLite on this thread), the next ones are read and parsed,
    // on the preparer's worker thread in the app, so that parsing and writing overlap.
    const reads: (Promise<SourceRead> | null)[] = files.map(() => null);
    const readAhead = (index: number): void => {
      const file = files[index];
      if (!file || file.error || reads[index]) return;
      const read = this.#readSource(file.path, options.signal);
      read.catch(() => undefined); // handled when its turn comes; an early failure must not go unhandled meanwhile
      reads[index] = read;
    };
    for (let i = 0; i < files.length; i++) {
      throwIfAborted(options.signal, 'ingestion');
      for (let ahead = i; ahead <= i + readAheadFiles; ahead++) readAhead(ahead);
      const file = files[i]!;
      const failed = (error: IngestFileReport['error']): IngestFileReport => ({
        file: file.path,
        status: 'failed',
        sourceId: null,
        passagesAdded: 0,
        duplicates: 0,
        reason: null,
        error,
      });
      let report: IngestFileReport;
      if (file.error) report = failed(file.error);
      else {
        try {
          report = await this.#ingestFile(file.path, await reads[i]!, options);
        } catch (error) {
          if (error instanceof CancelledError || options.signal?.aborted) throw error;
          report = failed(toErrorPayload(error));
        }
        reads[i] = null;
      }
      reports.push(report);
      options.onProgress?.(report, i + 1, files.length);
    }
    return { files: reports, passagesAdded: reports.reduce((n, r) => n + r.passagesAdded, 0) };
  }

  /**
   * A file's bytes and identity, and, unless a source with the same sha256 is stored, its prepared passages. The read
   * is synchronous on purpose: the writer's thread yields to the event loop only between files, so an asynchronous
   * read would leave the preparer's thread idle while this thread writes the file before.
   */
  async #readSource(path: string, signal?: AbortSignal): Promise<SourceRead> {
    throwIfAborted(signal, 'ingestion');
    const raw = readFileSync(path);
    const sha256 = sha256Hex(raw);
    const bytes = raw.length;
    const existing = this.#repo.sourceIdBySha(sha256);
    if (existing !== null) return { sha256, bytes, existing, prepared: null };
    return { sha256, bytes, existing: null, prepared: await this.#preparer.prepare(raw, path, this.#chunking, signal) };
  }

  async #ingestFile(path: string, read: SourceRead, options: IngestOptions): Promise<IngestFileReport> {
    const { sha256, bytes, prepared } = read;
    const skipped = (sourceId: number): IngestFileReport => ({
      file: path,
      status: 'skipped',
      sourceId,
      passagesAdded: 0,
      duplicates: 0,
      reason: 'already ingested',
      error: null,
    });
    if (!prepared) return skipped(read.existing!);
    const { passages } = prepared;
    const embedder = this.#embedder;
    const vectors = this.#vectors;
    let embeddings: Float32Array[] | null = null;
    if (embedder && vectors && passages.length > 0) {
      embeddings = [];
      for (let i = 0; i < passages.length; i += this.#embeddingBatch) {
        throwIfAborted(options.signal, 'ingestion');
        const batch = passages.slice(i, i + this.#embeddingBatch);
        embeddings.push(
          ...(await embedder.embed(
            batch.map((p) => embeddingText(p.title, p.section, p.text)),
            { signal: options.signal },
          )),
        );
      }
    }
    throwIfAborted(options.signal, 'ingestion');
    let added = 0;
    let sourceId = 0;
    let raced = false;
    this.#db.transaction(() => {
      // Checked again inside the transaction: an earlier file of the batch, or another writer, may have committed the
      // same bytes since the file was read.
      const committed = this.#repo.sourceIdBySha(sha256);
      if (committed !== null) {
        sourceId = committed;
        raced = true;
        return;
      }
      sourceId = this.#repo.insertSource({
        title: prepared.title,
        file: resolve(path),
        format: prepared.format,
        sha256,
        license: prepared.license ?? options.license ?? null,
        attribution: prepared.attribution ?? options.attribution ?? null,
        origin: options.origin ?? 'user',
        bytes,
      });
      const ids: number[] = [];
      const idVectors: Float32Array[] = [];
      this.#repo
        .insertPassages(sourceId, passages, (i) => textHashAt(prepared, i))
        .forEach((id, i) => {
          if (id === null) return;
          ids.push(id);
          if (embeddings) idVectors.push(embeddings[i]!);
        });
      added = ids.length;
      if (embeddings && vectors && ids.length > 0) vectors.insert(ids, idVectors);
      this.#repo.setPassageCount(sourceId, added);
      options.beforeCommit?.(path, sourceId);
    })();
    if (raced) return skipped(sourceId);
    return {
      file: path,
      status: 'ingested',
      sourceId,
      passagesAdded: added,
      duplicates: passages.length - added,
      reason: passages.length === 0 ? 'no text found' : null,
      error: null,
    };
  }

  /**
   * Embeds the passages that have no vector from the current model yet (after a model change, or for the bundled
   * knowledge base), committing each batch, so an interrupted run resumes where it stopped.
   */
  embedPending(options: EmbedOptions = {}): Promise<{ embedded: number; total: number }> {
    return this.#serialized(() => this.#embedPending(options));
  }

  async #embedPending(options: EmbedOptions): Promise<{ embedded: number; total: number }> {
    const embedder = this.#embedder;
    const vectors = this.#vectors;
    if (!embedder || !vectors)
      throw new AppError(
        'NO_EMBEDDING_MODEL',
        'embedding passages: expected an embedding model, found none configured',
      );
    const batchSize = options.batchSize ?? 64;
    const total = this.#repo.passageCount();
    let done = vectors.count();
    let embedded = 0;
    let after = 0;
    options.onProgress?.(done, total);
    for (;;) {
      throwIfAborted(options.signal, 'embedding');
      const ids = vectors.missingPassageIds(batchSize, after);
      if (ids.length === 0) break;
      after = ids[ids.length - 1]!;
      const result = await embedder.embed(this.#repo.embeddingTexts(ids), { signal: options.signal });
      throwIfAborted(options.signal, 'embedding');
      // A passage removed meanwhile has no row to attach to; keep only those still present.
      const present = new Set(this.#repo.passages(ids).map((p) => p.id));
      this.#db.transaction(() => {
        const keep = ids.map((id, i) => ({ id, v: result[i]! })).filter((x) => present.has(x.id));
        vectors.insert(
          keep.map((x) => x.id),
          keep.map((x) => x.v),
        );
      })();
      embedded += ids.length;
      done += ids.length;
      options.onProgress?.(Math.min(done, total), total);
    }
    return { embedded, total };
  }

  /** Removes a source with its passages, FTS entries and vectors (of every model). */
  removeSource(sourceId: number): void {
    if (!this.#repo.source(sourceId)) throw new NotFoundError('source', sourceId);
    this.#db.transaction(() => {
      VectorStore.deleteSourceVectors(this.#db, sourceId);
      this.#db.prepare('DELETE FROM kb_passages WHERE source_id = ?').run(sourceId);
      this.#repo.deleteSource(sourceId);
    })();
    this.#vectors?.invalidate();
  }

  /** Small key/value state of the knowledge domain (e.g. which bundled files were installed). */
  meta(key: string): string | null {
    return this.#repo.meta(key);
  }

  setMeta(key: string, value: string): void {
    this.#repo.setMeta(key, value);
  }

  // ── image cases (CDIR) ────────────────────────────────────────────────────────────────────────────────────────

  ingestCases(folder: string, options: CaseIngestOptions = {}): Promise<CaseIngestSummary> {
    return this.#cases.ingest(folder, options);
  }

  /** Most similar case images to a query image (PNG/JPEG bytes or a file path); see CaseLibrary.search. */
  searchCases(image: Uint8Array | string, k = 3, options: CaseSearchOptions = {}): Promise<CaseSearchHit[]> {
    return this.#cases.search(image, k, options);
  }

  caseImage(imageId: number, maxSize?: number): Promise<Uint8Array> {
    return this.#cases.thumbnail(imageId, maxSize);
  }
}

function clampK(k: number): number {
  if (!Number.isFinite(k) || k < 1) throw new InvalidInputError('k', 'a number from 1 to 100', String(k));
  return Math.min(maxK, Math.floor(k));
}

export function describeModel(model: EmbeddingModelInfo): string {
  return `${model.name} (${model.dims}-d, ${model.sha256.slice(0, 12)})`;
}

/** A ~240-character excerpt around the first query term found in the text. */
function snippet(text: string, query: string): string {
  const lower = text.toLowerCase();
  let at = -1;
  for (const term of query.toLowerCase().match(/[\p{L}\p{N}]{4,}/gu) ?? []) {
    const i = lower.indexOf(term);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  const from = at < 80 ? 0 : text.lastIndexOf(' ', at - 60) + 1;
  const excerpt = text.slice(from, from + 240);
  const cut = excerpt.length < text.length - from ? excerpt.slice(0, excerpt.lastIndexOf(' ')) : excerpt;
  return `${from > 0 ? '…' : ''}${cut}${from + cut.length < text.length ? '…' : ''}`;
}

interface ExpandedFile {
  path: string;
  error: { code: string; message: string } | null;
}

/** Files named directly (any extension: an unsupported one is reported) and supported files under folders. */
async function expandPaths(paths: readonly string[], signal?: AbortSignal): Promise<ExpandedFile[]> {
  if (!Array.isArray(paths)) throw new InvalidInputError('paths', 'an array of file or folder paths', typeof paths);
  const out: ExpandedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    throwIfAborted(signal, 'ingestion');
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && isSupportedFile(full)) out.push({ path: full, error: null });
    }
  };
  for (const path of paths) {
    if (typeof path !== 'string' || !path) {
      out.push({
        path: String(path),
        error: { code: 'INVALID_INPUT', message: `path: expected a non-empty string, found ${JSON.stringify(path)}` },
      });
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) await walk(path);
      else out.push({ path, error: null });
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      out.push({
        path,
        error: {
          code: 'NOT_FOUND',
          message: `${path}: expected an existing file or folder, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}`,
        },
      });
    }
  }
  return out;
}
