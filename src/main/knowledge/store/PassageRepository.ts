import { hash } from 'node:crypto';
import type { KnowledgeSource, Passage, PassageProvenance } from '../../../shared/contract';
import type { Db } from '../../store/openStore';
import { normalizeSpace } from '../text/tokens';

export interface NewSource {
  title: string;
  file: string;
  format: string;
  sha256: string;
  license: string | null;
  attribution: string | null;
  origin: 'bundled' | 'user';
  bytes: number;
}

export interface NewPassage {
  ordinal: number;
  documentId: string | null;
  title: string;
  url: string | null;
  section: string[];
  page: number | null;
  charStart: number;
  charEnd: number;
  text: string;
}

/**
 * A passage with what storing it derives from it, worked out off the writer's thread (see ingest/). Its dedupe hash,
 * passageHash(text), travels beside it (PreparedSource packs them in one buffer).
 */
export interface PreparedPassage extends NewPassage {
  /** headingOf(title, section): indexed by FTS5 beside the text. */
  heading: string;
  sectionJson: string;
}

interface PassageRow {
  id: number;
  source_id: number;
  document_id: string | null;
  title: string;
  url: string | null;
  section: string;
  page: number | null;
  char_start: number;
  char_end: number;
  text: string;
  source_title: string;
  source_file: string;
  license: string | null;
  attribution: string | null;
}

interface SourceRow {
  id: number;
  title: string;
  file: string;
  format: string;
  license: string | null;
  attribution: string | null;
  origin: 'bundled' | 'user';
  sha256: string;
  passage_count: number;
  ingested_at: string;
}

/** The heading FTS indexes beside the text: the record title and its section path, without repeats. */
export function headingOf(title: string, section: readonly string[]): string {
  const parts = [title, ...section.filter((s) => s !== title)];
  return parts.join(' › ');
}

/** Hash that makes a passage a duplicate: SHA-1 of its text with case and whitespace folded. */
export function passageHash(text: string): Buffer {
  return hash('sha1', normalizeSpace(text.toLowerCase()), 'buffer');
}

/** Synchronous access to sources and passages; every statement is prepared once. */
export class PassageRepository {
  readonly #insertSource;
  readonly #setPassageCount;
  readonly #insertPassage;
  readonly #indexPassages;
  readonly #sourceBySha;
  readonly #sources;
  readonly #source;
  readonly #deleteSource;
  readonly #passage;
  readonly #passagesByIds;
  readonly #lexical;
  readonly #countPassages;
  readonly #getMeta;
  readonly #setMeta;

  constructor(readonly db: Db) {
    this.#insertSource = db.prepare(
      `INSERT INTO kb_sources (title, file, format, sha256, license, attribution, origin, bytes, passage_count, ingested_at)
       VALUES (@title, @file, @format, @sha256, @license, @attribution, @origin, @bytes, 0, @ingestedAt)`,
    );
    this.#setPassageCount = db.prepare('UPDATE kb_sources SET passage_count = ? WHERE id = ?');
    this.#insertPassage = db.prepare(
      `INSERT OR IGNORE INTO kb_passages
         (source_id, ordinal, document_id, title, url, section, heading, page, char_start, char_end, text, text_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Indexed here, in the caller's transaction, not by an AFTER INSERT trigger: an FTS5 insert fired by a trigger
    // costs twice the CPU of the same insert as its own statement (bench: ~150 vs ~75 µs per 732-char passage), and one
    // INSERT … SELECT per source costs less again than one insert per passage (bench: writer share −8 %).
    this.#indexPassages = db.prepare(
      'INSERT INTO kb_fts (rowid, heading, text) SELECT id, heading, text FROM kb_passages WHERE id BETWEEN ? AND ?',
    );
    this.#sourceBySha = db.prepare<[string], { id: number }>('SELECT id FROM kb_sources WHERE sha256 = ?');
    this.#sources = db.prepare<[], SourceRow>('SELECT * FROM kb_sources ORDER BY id');
    this.#source = db.prepare<[number], SourceRow>('SELECT * FROM kb_sources WHERE id = ?');
    this.#deleteSource = db.prepare('DELETE FROM kb_sources WHERE id = ?');
    const passageSelect = `SELECT p.id, p.source_id, p.document_id, p.title, p.url, p.section, p.page, p.char_start,
        p.char_end, p.text, s.title AS source_title, s.file AS source_file, s.license, s.attribution
      FROM kb_passages p JOIN kb_sources s ON s.id = p.source_id`;
    this.#passage = db.prepare<[number], PassageRow>(`${passageSelect} WHERE p.id = ?`);
    this.#passagesByIds = db.prepare<[string], PassageRow>(
      `${passageSelect} WHERE p.id IN (SELECT value FROM json_each(?))`,
    );
    this.#lexical = db.prepare<[string, number], { id: number; score: number }>(
      `SELECT rowid AS id, -bm25(kb_fts, 2.0, 1.0) AS score FROM kb_fts WHERE kb_fts MATCH ?
       ORDER BY bm25(kb_fts, 2.0, 1.0) LIMIT ?`,
    );
    this.#countPassages = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM kb_passages');
    this.#getMeta = db.prepare<[string], { value: string }>('SELECT value FROM kb_meta WHERE key = ?');
    this.#setMeta = db.prepare(
      'INSERT INTO kb_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  sourceIdBySha(sha256: string): number | null {
    return this.#sourceBySha.get(sha256)?.id ?? null;
  }

  insertSource(source: NewSource): number {
    return Number(this.#insertSource.run({ ...source, ingestedAt: new Date().toISOString() }).lastInsertRowid);
  }

  /**
   * Inserts a source's passages and indexes the new ones for lexical search. Returns each passage's id, or null where
   * the same text is already stored (a duplicate). `hashOf(i)` is passageHash of passage i's text. Runs inside the
   * caller's transaction.
   */
  insertPassages(
    sourceId: number,
    passages: readonly PreparedPassage[],
    hashOf: (index: number) => Uint8Array,
  ): (number | null)[] {
    const ids = passages.map((passage, i) => {
      const result = this.#insertPassage.run(
        sourceId,
        passage.ordinal,
        passage.documentId,
        passage.title,
        passage.url,
        passage.sectionJson,
        passage.heading,
        passage.page,
        passage.charStart,
        passage.charEnd,
        passage.text,
        hashOf(i),
      );
      return result.changes === 1 ? Number(result.lastInsertRowid) : null;
    });
    // The new rows hold consecutive ids (rowids grow from the largest, and a skipped duplicate takes none), so one
    // statement indexes exactly them, reading the text SQLite already holds rather than binding it a second time.
    const added = ids.filter((id): id is number => id !== null);
    if (added.length > 0) this.#indexPassages.run(added[0], added[added.length - 1]);
    return ids;
  }

  setPassageCount(sourceId: number, count: number): void {
    this.#setPassageCount.run(count, sourceId);
  }

  sources(): KnowledgeSource[] {
    return this.#sources.all().map(toSource);
  }

  source(id: number): KnowledgeSource | null {
    const row = this.#source.get(id);
    return row ? toSource(row) : null;
  }

  deleteSource(id: number): boolean {
    return this.#deleteSource.run(id).changes === 1;
  }

  passage(id: number): Passage | null {
    const row = this.#passage.get(id);
    return row ? toPassage(row) : null;
  }

  /** Passages by id, in the order of `ids` (unknown ids are left out). */
  passages(ids: readonly number[]): Passage[] {
    if (ids.length === 0) return [];
    const byId = new Map(this.#passagesByIds.all(JSON.stringify(ids)).map((r) => [r.id, toPassage(r)]));
    return ids.map((id) => byId.get(id)).filter((p): p is Passage => p !== undefined);
  }

  /** Passage texts as they are embedded: heading then text. */
  embeddingTexts(ids: readonly number[]): string[] {
    return this.passages(ids).map((p) => embeddingText(p.title, p.provenance.section, p.text));
  }

  lexical(match: string, limit: number): { id: number; score: number }[] {
    return this.#lexical.all(match, limit);
  }

  passageCount(): number {
    return this.#countPassages.get()!.n;
  }

  meta(key: string): string | null {
    return this.#getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#setMeta.run(key, value);
  }
}

/** What the embedding model reads for a passage: its heading (title and sections) and its text. */
export function embeddingText(title: string, section: readonly string[], text: string): string {
  return `${headingOf(title, section)}\n${text}`;
}

function toSource(row: SourceRow): KnowledgeSource {
  return {
    id: row.id,
    title: row.title,
    file: row.file,
    format: row.format,
    license: row.license,
    attribution: row.attribution,
    origin: row.origin,
    sha256: row.sha256,
    passages: row.passage_count,
    ingestedAt: row.ingested_at,
  };
}

function toPassage(row: PassageRow): Passage {
  const provenance: PassageProvenance = {
    sourceId: row.source_id,
    sourceTitle: row.source_title,
    sourceFile: row.source_file,
    license: row.license,
    attribution: row.attribution,
    documentId: row.document_id,
    url: row.url,
    section: JSON.parse(row.section) as string[],
    page: row.page,
    charStart: row.char_start,
    charEnd: row.char_end,
  };
  return { id: row.id, title: row.title, text: row.text, provenance };
}
