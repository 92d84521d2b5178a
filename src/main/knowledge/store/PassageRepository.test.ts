import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../store/migrations';
import { openStore, type Db } from '../../store/openStore';
import { KnowledgeService } from '../KnowledgeService';
import { normalizeSpace } from '../text/tokens';
import { knowledgeMigrations } from './knowledgeSchema';
import { passageHash } from './PassageRepository';

const scratch = mkdtempSync(join(tmpdir(), 'kb-repo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(scratch, 'db-')), 'kb.sqlite'));
});
afterEach(() => db.close());

/** Rows the FTS5 index itself holds (kb_fts counts the content table, not the index). */
const indexed = (): number => (db.prepare('SELECT COUNT(*) AS n FROM kb_fts_docsize').get() as { n: number }).n;
const passages = (): number => (db.prepare('SELECT COUNT(*) AS n FROM kb_passages').get() as { n: number }).n;
const integrityCheck = (): void => {
  db.prepare("INSERT INTO kb_fts (kb_fts, rank) VALUES ('integrity-check', 1)").run();
};

describe('duplicate hash', () => {
  it('is the SHA-1 of the case- and whitespace-folded text, as stores written by earlier versions hold it', () => {
    // Computed with createHash('sha1').update(text.toLowerCase().replace(/\s+/g, ' ').trim()) (schema version 1).
    const text = '  Pleural\u00a0Effusion:\n\nFluid between the  pleural layers;\tblunting of the costophrenic angle. ';
    expect(passageHash(text).toString('hex')).toBe('e1bc830bef96e4ec93ece873209a94ac7cc178e2');
    expect(passageHash('pleural effusion: fluid').equals(passageHash(' Pleural\n\tEFFUSION:  fluid\r\n'))).toBe(true);
  });

  it('folds whitespace exactly as replacing every \\s+ run does', () => {
    const spaces = [' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029'];
    spaces.push('\u202f', '\u205f', '\u3000', '\ufeff');
    const samples = ['', ' ', 'a', 'a b', ' a', 'a ', 'a  b', 'a \n b', 'x\u00a0 y', '\n\n', 'a\u3000\u3000b\t'];
    for (const s of spaces) for (const t of spaces) samples.push(`x${s}y`, `${s}x${t}`, `x${s}${t}y z`, `${s}${t}`);
    for (const sample of samples) expect(normalizeSpace(sample)).toBe(sample.replace(/\s+/g, ' ').trim());
  });
});

describe('lexical index written with the passages (schema version 2)', () => {
  it('indexes every new passage in the transaction of its source and rolls the index back with it', async () => {
    const kb = new KnowledgeService(db);
    const good = join(scratch, 'effusion.md');
    const bad = join(scratch, 'pneumothorax.md');
    writeFileSync(
      good,
      '# Pleural effusion\n\nBlunting of the costophrenic angle.\n\nA meniscus sign on the radiograph.\n',
    );
    writeFileSync(bad, '# Pneumothorax\n\nA visible visceral pleural line with no lung markings beyond it.\n');
    const summary = await kb.ingest([good, bad], {
      beforeCommit: (file) => {
        if (file === bad) throw new Error('disk full (simulated)');
      },
    });
    expect(summary.files.map((f) => f.status)).toEqual(['ingested', 'failed']);
    expect(passages()).toBe(summary.passagesAdded);
    expect(indexed()).toBe(passages());
    integrityCheck();
    expect((await kb.search('costophrenic meniscus', { mode: 'lexical' })).hits).toHaveLength(1);
    expect((await kb.search('visceral pleural line', { mode: 'lexical' })).hits).toHaveLength(1); // "pleural" only
    expect((await kb.search('visceral markings', { mode: 'lexical' })).hits).toHaveLength(0);
  });

  it('migrates a version-1 store: its passages stay searchable, new ones are indexed once, removal still unindexes', async () => {
    migrate(db, 'knowledge', knowledgeMigrations.slice(0, 1));
    const trigger = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name = 'kb_passages_ai'";
    expect(db.prepare(trigger).get()).toEqual({ n: 1 });
    // A passage as version 1 wrote it: the row, indexed by the trigger.
    db.prepare(
      `INSERT INTO kb_sources (id, title, file, format, sha256, origin, bytes, passage_count, ingested_at)
       VALUES (1, 'Atelectasis', '/old.md', 'markdown', 'old', 'user', 1, 1, '2025-01-01')`,
    ).run();
    db.prepare(
      `INSERT INTO kb_passages (source_id, ordinal, title, section, heading, char_start, char_end, text, text_hash)
       VALUES (1, 0, 'Atelectasis', '[]', 'Atelectasis', 0, 45, ?, ?)`,
    ).run(
      'Volume loss with displacement of the fissures.',
      passageHash('Volume loss with displacement of the fissures.'),
    );
    expect(indexed()).toBe(1);

    const kb = new KnowledgeService(db);
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE domain = ?').get('knowledge')).toEqual({
      v: 3,
    });
    expect(db.prepare(trigger).get()).toEqual({ n: 0 });
    // Version 3: FTS5 merges segments 8 at a time (a setting stored with the index).
    expect(db.prepare("SELECT v FROM kb_fts_config WHERE k = 'automerge'").get()).toEqual({ v: 8 });
    const added = join(scratch, 'new.md');
    writeFileSync(added, '# Consolidation\n\nAir bronchograms within an opacified lobe.\n');
    await kb.ingest([added]);
    expect(indexed()).toBe(2);
    integrityCheck();
    expect((await kb.search('fissures', { mode: 'lexical' })).hits).toHaveLength(1);
    expect((await kb.search('bronchograms', { mode: 'lexical' })).hits).toHaveLength(1);
    kb.removeSource(1);
    expect(indexed()).toBe(1);
    integrityCheck();
    expect((await kb.search('fissures', { mode: 'lexical' })).hits).toHaveLength(0);
  });
});
