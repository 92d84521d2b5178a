import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CaseSearchHit } from '../../../shared/contract';
import { CancelledError, InvalidInputError, throwIfAborted, toErrorPayload } from '../../errors/AppError';
import type { Db } from '../../store/openStore';
import { NotFoundError } from '../errors';
import { normalize } from '../vectors/VectorStore';
import { readCaseCorpus, type CaseImageRecord, type CaseRecord } from './caseCorpora';
import { decodeImage, decodeStoredPng, thumbnailPng, type DecodedImage } from './decodeImage';
import { DescriptorEncoder } from './DescriptorEncoder';
import type { ImageEncoder } from './ImageEncoder';

/** Longest side of the thumbnail stored with each case image. */
const storedThumbnail = 384;

export interface CaseIngestReport {
  caseId: string;
  status: 'ingested' | 'skipped' | 'failed';
  images: number;
  reason: string | null;
  error: { code: string; message: string } | null;
}

export interface CaseIngestOptions {
  signal?: AbortSignal;
  onProgress?: (report: CaseIngestReport, done: number, total: number) => void;
}

export interface CaseIngestSummary {
  corpus: string;
  cases: CaseIngestReport[];
  imagesAdded: number;
}

export interface CaseSearchOptions {
  /** One hit per case (its most similar image). Defaults to true (CDIR wants distinct similar cases). */
  distinctCases?: boolean;
  /** Images left out of the ranking (e.g. the query image itself when it is in the corpus). */
  excludeImageIds?: readonly number[];
  /** Cases left out (e.g. the current patient's case). */
  excludeCaseIds?: readonly number[];
  signal?: AbortSignal;
}

interface PreparedImage extends CaseImageRecord {
  sha256: string;
  width: number;
  height: number;
  thumbnail: Uint8Array;
  vector: Float32Array;
}

interface IndexEntry {
  imageId: number;
  caseId: number;
}

interface HitRow {
  image_id: number;
  case_id: number;
  path: string;
  modality: string | null;
  plane: string | null;
  caption: string | null;
  title: string;
  diagnosis: string | null;
  consultation: string;
  corpus: string;
  license: string | null;
}

/**
 * The image-case corpus for confidence-driven image re-retrieval (CDIR): cases (report/consultation text,
 * diagnosis, metadata) with their images, a stored thumbnail per image, and one vector per image and encoder.
 * Search is an exact cosine scan held in memory (case corpora are thousands of images, not millions).
 */
export class CaseLibrary {
  readonly #db: Db;
  readonly encoder: ImageEncoder;
  #index: { entries: IndexEntry[]; matrix: Float32Array } | null = null;

  constructor(db: Db, encoder: ImageEncoder = new DescriptorEncoder()) {
    this.#db = db;
    this.encoder = encoder;
  }

  counts(): { cases: number; caseImages: number; caseEncoder: string } {
    const row = this.#db
      .prepare<[], { cases: number; images: number }>(
        'SELECT (SELECT COUNT(*) FROM kb_cases) AS cases, (SELECT COUNT(*) FROM kb_case_images) AS images',
      )
      .get()!;
    return { cases: row.cases, caseImages: row.images, caseEncoder: this.encoder.id };
  }

  /**
   * Ingests a case folder (see readCaseCorpus for the layouts). One case = one transaction; cases already stored
   * (same corpus and id) are skipped, so an interrupted ingestion resumes. A case whose images cannot be read fails
   * alone, with the reason.
   */
  async ingest(folder: string, options: CaseIngestOptions = {}): Promise<CaseIngestSummary> {
    const corpus = await readCaseCorpus(folder);
    const reports: CaseIngestReport[] = [];
    const exists = this.#db.prepare<[string, string], { id: number }>(
      'SELECT id FROM kb_cases WHERE corpus = ? AND external_id = ?',
    );
    let imagesAdded = 0;
    for (const record of corpus.cases) {
      throwIfAborted(options.signal, 'case ingestion');
      let report: CaseIngestReport;
      if (exists.get(corpus.name, record.externalId)) {
        report = { caseId: record.externalId, status: 'skipped', images: 0, reason: 'already ingested', error: null };
      } else if (record.images.length === 0) {
        report = { caseId: record.externalId, status: 'skipped', images: 0, reason: 'no readable image', error: null };
      } else {
        try {
          const images = await this.#prepareImages(record, options.signal);
          this.#insertCase(corpus.name, record, images);
          imagesAdded += images.length;
          report = { caseId: record.externalId, status: 'ingested', images: images.length, reason: null, error: null };
        } catch (error) {
          if (error instanceof CancelledError || options.signal?.aborted) throw error;
          report = {
            caseId: record.externalId,
            status: 'failed',
            images: 0,
            reason: null,
            error: toErrorPayload(error),
          };
        }
      }
      reports.push(report);
      options.onProgress?.(report, reports.length, corpus.cases.length);
    }
    return { corpus: corpus.name, cases: reports, imagesAdded };
  }

  async #prepareImages(record: CaseRecord, signal?: AbortSignal): Promise<PreparedImage[]> {
    const prepared: PreparedImage[] = [];
    for (const image of record.images) {
      throwIfAborted(signal, 'case ingestion');
      const bytes = await readFile(image.path, { signal });
      const decoded = await decodeImage(bytes, image.path);
      prepared.push({
        ...image,
        path: resolve(image.path),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        width: decoded.width,
        height: decoded.height,
        thumbnail: thumbnailPng(decoded, storedThumbnail),
        vector: normalize(Float32Array.from(await this.encoder.encode(decoded, { signal }))),
      });
    }
    return prepared;
  }

  #insertCase(corpus: string, record: CaseRecord, images: PreparedImage[]): void {
    this.#db.transaction(() => {
      const caseId = Number(
        this.#db
          .prepare(
            `INSERT INTO kb_cases (corpus, external_id, title, diagnosis, consultation, metadata, license, ingested_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            corpus,
            record.externalId,
            record.title,
            record.diagnosis,
            record.consultation,
            JSON.stringify(record.metadata),
            record.license,
            new Date().toISOString(),
          ).lastInsertRowid,
      );
      const insertImage = this.#db.prepare(
        `INSERT OR IGNORE INTO kb_case_images (case_id, path, sha256, modality, plane, caption, width, height, thumbnail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertVector = this.#db.prepare('INSERT INTO kb_case_vectors (image_id, encoder, vector) VALUES (?, ?, ?)');
      for (const image of images) {
        const result = insertImage.run(
          caseId,
          image.path,
          image.sha256,
          image.modality,
          image.plane,
          image.caption,
          image.width,
          image.height,
          Buffer.from(image.thumbnail),
        );
        if (result.changes === 0) continue;
        insertVector.run(
          Number(result.lastInsertRowid),
          this.encoder.id,
          Buffer.from(image.vector.buffer, image.vector.byteOffset, image.vector.byteLength),
        );
      }
    })();
    this.#index = null;
  }

  /**
   * The `k` most similar case images to a query image (PNG/JPEG bytes or a file path), by cosine similarity of the
   * encoder's vectors. Each hit carries its case's consultation text and diagnosis, ready for the model.
   */
  async search(image: Uint8Array | string, k = 3, options: CaseSearchOptions = {}): Promise<CaseSearchHit[]> {
    if (!Number.isFinite(k) || k < 1) throw new InvalidInputError('k', 'a number from 1 to 100', String(k));
    const decoded = await this.#decodeQuery(image, options.signal);
    throwIfAborted(options.signal, 'case search');
    const query = normalize(Float32Array.from(await this.encoder.encode(decoded, { signal: options.signal })));
    return this.searchVector(query, Math.min(100, Math.floor(k)), options);
  }

  /** Same as `search` with an already encoded query (leave-one-out evaluation, cached queries). */
  searchVector(query: Float32Array, k: number, options: CaseSearchOptions = {}): CaseSearchHit[] {
    const index = this.#loadIndex();
    const dims = this.encoder.dimensions;
    const excludedImages = new Set(options.excludeImageIds ?? []);
    const excludedCases = new Set(options.excludeCaseIds ?? []);
    const scored: { entry: IndexEntry; score: number }[] = [];
    index.entries.forEach((entry, row) => {
      if (excludedImages.has(entry.imageId) || excludedCases.has(entry.caseId)) return;
      let dot = 0;
      const base = row * dims;
      for (let d = 0; d < dims; d++) dot += index.matrix[base + d]! * query[d]!;
      scored.push({ entry, score: dot });
    });
    scored.sort((a, b) => b.score - a.score || a.entry.imageId - b.entry.imageId);
    const distinct = options.distinctCases ?? true;
    const seen = new Set<number>();
    const top: { entry: IndexEntry; score: number }[] = [];
    for (const s of scored) {
      if (distinct && seen.has(s.entry.caseId)) continue;
      seen.add(s.entry.caseId);
      top.push(s);
      if (top.length >= k) break;
    }
    if (top.length === 0) return [];
    const rows = new Map(
      this.#db
        .prepare<[string], HitRow>(
          `SELECT i.id AS image_id, c.id AS case_id, i.path, i.modality, i.plane, i.caption, c.title, c.diagnosis,
                  c.consultation, c.corpus, c.license
           FROM kb_case_images i JOIN kb_cases c ON c.id = i.case_id WHERE i.id IN (SELECT value FROM json_each(?))`,
        )
        .all(JSON.stringify(top.map((t) => t.entry.imageId)))
        .map((r) => [r.image_id, r]),
    );
    return top.map((t, i) => {
      const row = rows.get(t.entry.imageId)!;
      return {
        caseId: row.case_id,
        imageId: row.image_id,
        rank: i + 1,
        score: t.score,
        title: row.title,
        diagnosis: row.diagnosis,
        modality: row.modality,
        plane: row.plane,
        caption: row.caption,
        consultation: row.consultation,
        imagePath: row.path,
        corpus: row.corpus,
        license: row.license,
      };
    });
  }

  /** Image ids with their case ids and stored vectors (for evaluation). */
  imageVectors(): { imageId: number; caseId: number; vector: Float32Array }[] {
    const index = this.#loadIndex();
    const dims = this.encoder.dimensions;
    return index.entries.map((e, row) => ({ ...e, vector: index.matrix.slice(row * dims, (row + 1) * dims) }));
  }

  /** A PNG of a case image no larger than `maxSize` (defaults to the stored 384 px thumbnail). */
  async thumbnail(imageId: number, maxSize = storedThumbnail): Promise<Uint8Array> {
    if (!Number.isFinite(maxSize) || maxSize < 8)
      throw new InvalidInputError('maxSize', 'a size of at least 8 pixels', String(maxSize));
    const row = this.#db
      .prepare<[number], { thumbnail: Buffer; path: string; width: number; height: number }>(
        'SELECT thumbnail, path, width, height FROM kb_case_images WHERE id = ?',
      )
      .get(imageId);
    if (!row) throw new NotFoundError('case image', imageId);
    const stored = new Uint8Array(row.thumbnail);
    if (maxSize > storedThumbnail && Math.max(row.width, row.height) > storedThumbnail && existsSync(row.path)) {
      return thumbnailPng(await decodeImage(await readFile(row.path), row.path), maxSize);
    }
    if (maxSize >= storedThumbnail) return stored;
    return thumbnailPng(decodeStoredPng(stored), maxSize);
  }

  removeCorpus(corpus: string): number {
    const removed = this.#db.prepare('DELETE FROM kb_cases WHERE corpus = ?').run(corpus).changes;
    this.#index = null;
    return removed;
  }

  async #decodeQuery(image: Uint8Array | string, signal?: AbortSignal): Promise<DecodedImage> {
    if (typeof image === 'string') {
      const bytes = await readFile(image, { signal }).catch((error: NodeJS.ErrnoException) => {
        throw new InvalidInputError(image, 'a readable image file', error.code ?? String(error));
      });
      return decodeImage(bytes, image);
    }
    if (!(image instanceof Uint8Array))
      throw new InvalidInputError('query image', 'PNG/JPEG bytes or a file path', typeof image);
    return decodeImage(image, 'query image');
  }

  #loadIndex(): { entries: IndexEntry[]; matrix: Float32Array } {
    if (this.#index) return this.#index;
    const rows = this.#db
      .prepare<[string], { image_id: number; case_id: number; vector: Buffer }>(
        `SELECT v.image_id, i.case_id, v.vector FROM kb_case_vectors v JOIN kb_case_images i ON i.id = v.image_id
         WHERE v.encoder = ? ORDER BY v.image_id`,
      )
      .all(this.encoder.id);
    const dims = this.encoder.dimensions;
    const matrix = new Float32Array(rows.length * dims);
    rows.forEach((r, i) => {
      const v = new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength));
      if (v.length === dims) matrix.set(v, i * dims);
    });
    this.#index = { entries: rows.map((r) => ({ imageId: r.image_id, caseId: r.case_id })), matrix };
    return this.#index;
  }
}
