import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/openStore';
import { KnowledgeService } from './KnowledgeService';
import { projectRoot } from './testSupport/sharedData';

const files = ['9_cdc_qa.jsonl.gz', '6_ninds_qa.jsonl.gz', '8_nhlbi_qa_xml.jsonl.gz'].map((f) =>
  join(projectRoot, 'resources/knowledge/medquad', f),
);
const child = join(import.meta.dirname, 'testSupport/ingestChild.ts');
const scratch = mkdtempSync(join(tmpdir(), 'kb-crash-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface ChildResult {
  signal: NodeJS.Signals | null;
  committed: string[];
}

/** Runs the ingestion child; `killAfter` = SIGKILL it from outside after that many committed files. */
function runChild(database: string, env: Record<string, string>, killAfter?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(child, [database, ...files], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const committed: string[] = [];
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('message', (message: { file?: string; status?: string }) => {
      if (message.file && message.status === 'ingested') committed.push(message.file);
      if (killAfter !== undefined && committed.length === killAfter) proc.kill('SIGKILL');
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolve({ signal, committed });
    });
  });
}

/** What a store holds, checked for internal consistency. */
function inspect(database: string): { sources: Record<string, number>; passages: number } {
  const db = openStore(database);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const sources = db
      .prepare<[], { file: string; passage_count: number; actual: number }>(
        'SELECT file, passage_count, (SELECT COUNT(*) FROM kb_passages p WHERE p.source_id = s.id) AS actual FROM kb_sources s',
      )
      .all();
    for (const s of sources) expect(s.actual).toBe(s.passage_count);
    const passages = (db.prepare('SELECT COUNT(*) AS n FROM kb_passages').get() as { n: number }).n;
    expect(db.prepare('SELECT COUNT(*) AS n FROM kb_fts').get()).toEqual({ n: passages });
    expect(db.prepare("INSERT INTO kb_fts (kb_fts) VALUES ('integrity-check')").run().changes).toBeGreaterThanOrEqual(
      0,
    );
    return { sources: Object.fromEntries(sources.map((s) => [s.file, s.passage_count])), passages };
  } finally {
    db.close();
  }
}

async function ingestInProcess(database: string): Promise<string[]> {
  const db = openStore(database);
  try {
    const summary = await new KnowledgeService(db).ingest(files);
    return summary.files.map((f) => f.status);
  } finally {
    db.close();
  }
}

let referenceStore: Promise<string> | null = null;
/** The same files ingested without interruption. */
function reference(): Promise<string> {
  referenceStore ??= (async () => {
    const database = join(scratch, 'reference.sqlite');
    await ingestInProcess(database);
    return database;
  })();
  return referenceStore;
}

describe('a crash mid-ingestion loses nothing committed', () => {
  it('SIGKILL inside a source transaction: earlier sources intact, the interrupted one absent, re-run resumes', async () => {
    const expected = inspect(await reference());

    const database = join(scratch, 'crash-in-transaction.sqlite');
    const result = await runChild(database, { MEDRWR_CRASH_IN: '6_ninds_qa.jsonl.gz' });
    expect(result.signal).toBe('SIGKILL');
    expect(result.committed).toEqual([files[0]]);
    const after = inspect(database);
    expect(Object.keys(after.sources)).toEqual([files[0]]);
    expect(after.sources[files[0]!]).toBe(expected.sources[files[0]!]);

    expect(await ingestInProcess(database)).toEqual(['skipped', 'ingested', 'ingested']);
    expect(inspect(database)).toEqual(expected);
  });

  it('SIGKILL from outside at an arbitrary moment: whatever was reported committed is there, consistently', async () => {
    const database = join(scratch, 'killed-from-outside.sqlite');
    const result = await runChild(database, {}, 1);
    const after = inspect(database);
    for (const file of result.committed) expect(after.sources[file]).toBeGreaterThan(0);
    expect(Object.keys(after.sources).length).toBeGreaterThanOrEqual(result.committed.length);
    const statuses = await ingestInProcess(database);
    expect(statuses.filter((s) => s === 'skipped').length).toBe(Object.keys(after.sources).length);
    expect(inspect(database)).toEqual(inspect(await reference()));
  });
});
