import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../errors/AppError';
import type { IngestFileReport, KnowledgeService } from '../KnowledgeService';

const installedKey = 'bundled.installed';

export interface BundledInstallOptions {
  signal?: AbortSignal;
  onProgress?: (report: IngestFileReport, filesDone: number, filesTotal: number) => void;
}

/** The bundled knowledge files shipped in `<resources>/knowledge/medquad/` (gzipped JSONL, see buildMedquadBundle). */
export async function bundledKnowledgeFiles(resourcesDir: string): Promise<string[]> {
  const dir = join(resourcesDir, 'knowledge', 'medquad');
  if (!existsSync(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Builds the bundled MedQuAD knowledge base into the store on first start (lexical only: about a second or two),
 * file by file, each in its own transaction, so an interrupted first start resumes on the next. A bundled file the
 * user has since removed is remembered and not installed again; a new bundled file (app update) is added.
 */
export async function installBundledKnowledge(
  knowledge: KnowledgeService,
  resourcesDir: string,
  options: BundledInstallOptions = {},
): Promise<{ installed: number; files: number }> {
  const files = await bundledKnowledgeFiles(resourcesDir);
  const done = new Set<string>(JSON.parse(knowledge.meta(installedKey) ?? '[]') as string[]);
  const pending = new Map<string, string>();
  for (const file of files) {
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    if (!done.has(sha256)) pending.set(file, sha256);
  }
  let installed = 0;
  throwIfAborted(options.signal, 'installing the bundled knowledge base');
  // One ingestion run for all pending files, so the next file is parsed while this one is written.
  await knowledge.ingest([...pending.keys()], {
    signal: options.signal,
    origin: 'bundled',
    onProgress: (report, filesDone, filesTotal) => {
      options.onProgress?.(report, filesDone, filesTotal);
      const sha256 = pending.get(report.file);
      if (report.status === 'failed' || !sha256) return;
      done.add(sha256);
      knowledge.setMeta(installedKey, JSON.stringify([...done].sort()));
      if (report.status === 'ingested') installed++;
    },
  });
  return { installed, files: files.length };
}
