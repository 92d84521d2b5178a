import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/openStore';
import { KnowledgeService } from '../KnowledgeService';
import { projectRoot } from '../testSupport/sharedData';
import { writeTextPdf } from '../testSupport/writeTextPdf';
import { prepareSource } from './prepareSource';
import { WorkerSourcePreparer } from './WorkerSourcePreparer';

const bundled = join(projectRoot, 'resources/knowledge/medquad');
const cdc = join(bundled, '9_cdc_qa.jsonl.gz');
const scratch = mkdtempSync(join(tmpdir(), 'kb-preparer-'));
const preparer = new WorkerSourcePreparer();
afterAll(async () => {
  await preparer.close();
  rmSync(scratch, { recursive: true, force: true });
});

function failure(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, found a result');
    },
    (error: { code?: string; message?: string }) => error,
  );
}

describe('WorkerSourcePreparer', () => {
  it('prepares a file on its worker thread exactly as ingestion does inline (bundled MedQuAD JSONL, a PDF)', async () => {
    const pdf = join(scratch, 'glaucoma.pdf');
    writeFileSync(
      pdf,
      writeTextPdf([
        {
          heading: 'Glaucoma',
          paragraphs: [
            "Glaucoma is a group of diseases that can damage the eye's optic nerve.",
            'Open-angle is common.',
          ],
        },
      ]),
    );
    for (const file of [cdc, pdf]) {
      const inline = await prepareSource(readFileSync(file), file, { maxTokens: 128 });
      const threaded = await preparer.prepare(readFileSync(file), file, { maxTokens: 128 });
      expect(threaded.passages.length).toBeGreaterThan(0);
      expect(threaded).toEqual(inline);
      expect(Buffer.from(threaded.textHashes).equals(Buffer.from(inline.textHashes))).toBe(true);
    }
  });

  it('gives back a parse failure with its code and reason, and goes on with the next file', async () => {
    const broken = join(scratch, 'broken.jsonl');
    writeFileSync(broken, '{"id": 1, "title": "ok", "text": "fine"}\n{not json\n');
    const error = await failure(preparer.prepare(readFileSync(broken), broken, {}));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('broken.jsonl line 2');
    const notGzip = await failure(preparer.prepare(Buffer.from('plain'), join(scratch, 'x.txt.gz'), {}));
    expect(notGzip.code).toBe('INVALID_INPUT');
    expect(notGzip.message).toContain('gzip-compressed data');
    const next = await preparer.prepare(gzipSync('Next\n\nStill working.'), join(scratch, 'ok.txt.gz'), {});
    expect(next.passages.map((p) => p.text)).toEqual(['Still working.']);
  });

  it('rejects at once when cancelled, and the worker stays usable', async () => {
    const controller = new AbortController();
    const pending = preparer.prepare(readFileSync(cdc), cdc, {}, controller.signal);
    controller.abort();
    expect((await failure(pending)).code).toBe('CANCELLED');
    expect((await preparer.prepare(readFileSync(cdc), cdc, {})).passages.length).toBeGreaterThan(100);
  });

  it('fails the files a dying worker held with KNOWLEDGE_WORKER_FAILED, then starts a new one', async () => {
    // A worker that exits on a file named crash.txt and prepares every other file as the real one does.
    const entry = join(scratch, 'crashingWorker.ts');
    writeFileSync(join(scratch, 'package.json'), '{"type": "module"}');
    writeFileSync(
      entry,
      `import { parentPort } from 'node:worker_threads';
import ${JSON.stringify(join(import.meta.dirname, 'sourcePreparerWorker.ts'))};
// After the real listener, which answers asynchronously: this one exits first.
parentPort!.on('message', (m: { path: string }) => { if (m.path.endsWith('crash.txt')) process.exit(3); });
`,
    );
    const crashing = new WorkerSourcePreparer(entry);
    try {
      const error = await failure(crashing.prepare(Buffer.from('text'), join(scratch, 'crash.txt'), {}));
      expect(error.code).toBe('KNOWLEDGE_WORKER_FAILED');
      expect(error.message).toMatch(/crash\.txt: expected the parse worker to answer, found it exited with code 3/);
      const next = await crashing.prepare(
        Buffer.from('Next\n\nThe next file is parsed.'),
        join(scratch, 'next.txt'),
        {},
      );
      expect(next.passages.map((p) => p.text)).toEqual(['The next file is parsed.']);
    } finally {
      await crashing.close();
    }
  });

  it('lets the knowledge service ingest the bundled base with the same passages as inline parsing', async () => {
    const files = ['1_cancergov_qa.jsonl.gz', '9_cdc_qa.jsonl.gz', '6_ninds_qa.jsonl.gz'].map((f) => join(bundled, f));
    const passages = async (kb: KnowledgeService, db: ReturnType<typeof openStore>): Promise<unknown[]> => {
      const summary = await kb.ingest(files);
      expect(summary.files.map((f) => f.status)).toEqual(['ingested', 'ingested', 'ingested']);
      // Resuming: a second run skips every committed file by its sha256 without parsing it again.
      expect((await kb.ingest(files)).files.map((f) => f.status)).toEqual(['skipped', 'skipped', 'skipped']);
      return db
        .prepare(
          'SELECT id, source_id, ordinal, title, section, heading, char_start, char_end, text, hex(text_hash) AS h FROM kb_passages ORDER BY id',
        )
        .all();
    };
    const inlineDb = openStore(join(scratch, 'inline.sqlite'));
    const threadedDb = openStore(join(scratch, 'threaded.sqlite'));
    try {
      const inline = await passages(new KnowledgeService(inlineDb), inlineDb);
      const threaded = await passages(new KnowledgeService(threadedDb, { preparer }), threadedDb);
      expect(threaded.length).toBeGreaterThan(2000);
      expect(threaded).toEqual(inline);
      const kb = new KnowledgeService(threadedDb, { preparer });
      expect((await kb.search('amebic encephalitis', { k: 1 })).hits[0]?.provenance.sourceFile).toContain('9_cdc');
    } finally {
      inlineDb.close();
      threadedDb.close();
    }
  });
});
