import type { Migration } from '../../store/migrations';

/**
 * Schema of the "knowledge" domain. Passages are the unit of retrieval; FTS5 indexes them through an external-content
 * table: PassageRepository.insertPassages indexes each new passage in the same transaction (version 2), a trigger
 * removes the index entries of deleted passages. Vector tables are created per embedding model (see VectorStore), so vectors from
 * two models can never be mixed.
 */
export const knowledgeMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'sources, passages, FTS5 index, embedding models, image cases',
    up: (db) =>
      db.exec(`
        CREATE TABLE kb_sources (
          id INTEGER PRIMARY KEY,
          title TEXT NOT NULL,
          file TEXT NOT NULL,
          format TEXT NOT NULL,
          sha256 TEXT NOT NULL UNIQUE,
          license TEXT,
          attribution TEXT,
          origin TEXT NOT NULL CHECK (origin IN ('bundled', 'user')),
          bytes INTEGER NOT NULL,
          passage_count INTEGER NOT NULL,
          ingested_at TEXT NOT NULL
        );

        CREATE TABLE kb_passages (
          id INTEGER PRIMARY KEY,
          source_id INTEGER NOT NULL REFERENCES kb_sources (id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          document_id TEXT,
          title TEXT NOT NULL,
          url TEXT,
          section TEXT NOT NULL,
          heading TEXT NOT NULL,
          page INTEGER,
          char_start INTEGER NOT NULL,
          char_end INTEGER NOT NULL,
          text TEXT NOT NULL,
          text_hash BLOB NOT NULL UNIQUE
        );
        CREATE INDEX kb_passages_source ON kb_passages (source_id, ordinal);

        CREATE VIRTUAL TABLE kb_fts USING fts5 (
          heading, text,
          content = 'kb_passages', content_rowid = 'id',
          tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER kb_passages_ai AFTER INSERT ON kb_passages BEGIN
          INSERT INTO kb_fts (rowid, heading, text) VALUES (new.id, new.heading, new.text);
        END;
        CREATE TRIGGER kb_passages_ad AFTER DELETE ON kb_passages BEGIN
          INSERT INTO kb_fts (kb_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
        END;

        CREATE TABLE kb_embedding_models (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          dims INTEGER NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (name, sha256, dims)
        );

        CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE kb_cases (
          id INTEGER PRIMARY KEY,
          corpus TEXT NOT NULL,
          external_id TEXT NOT NULL,
          title TEXT NOT NULL,
          diagnosis TEXT,
          consultation TEXT NOT NULL,
          metadata TEXT NOT NULL,
          license TEXT,
          ingested_at TEXT NOT NULL,
          UNIQUE (corpus, external_id)
        );
        CREATE TABLE kb_case_images (
          id INTEGER PRIMARY KEY,
          case_id INTEGER NOT NULL REFERENCES kb_cases (id) ON DELETE CASCADE,
          path TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          modality TEXT,
          plane TEXT,
          caption TEXT,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          thumbnail BLOB NOT NULL,
          UNIQUE (case_id, sha256)
        );
        CREATE INDEX kb_case_images_case ON kb_case_images (case_id);
        CREATE TABLE kb_case_vectors (
          image_id INTEGER NOT NULL REFERENCES kb_case_images (id) ON DELETE CASCADE,
          encoder TEXT NOT NULL,
          vector BLOB NOT NULL,
          PRIMARY KEY (image_id, encoder)
        );
      `),
  },
  {
    version: 2,
    description: 'passages indexed by the repository in the same transaction instead of an AFTER INSERT trigger',
    // A trigger-fired FTS5 insert cost twice the CPU of the same insert run as a statement of its own; the index and
    // the passages still change in one transaction (the repository's insert), so nothing else changes.
    up: (db) => db.exec('DROP TRIGGER IF EXISTS kb_passages_ai'),
  },
  {
    version: 3,
    description: 'FTS5 merges index segments 8 at a time instead of 4',
    // Bulk ingestion spent about a fifth of its FTS5 time merging small segments (bench: writer share −15 to −20 %); a
    // query then reads at most twice as many segments per level, which at this size costs well under a millisecond.
    up: (db) => db.exec("INSERT INTO kb_fts (kb_fts, rank) VALUES ('automerge', 8)"),
  },
];
