import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ImportProgressEvent, ImportSummary } from '../../shared/contract';
import { toErrorPayload } from '../errors/AppError';
import { DicomError } from '../dicom/dicomErrors';
import { readHeaderRecord, type HeaderRecord, type KnownFileInfo } from './headerRecord';
import type { IndexedInstance, StudyIndex } from './StudyIndex';

/** Reads one file's index entry; the studies service passes its worker pool's reader, tests and the CLI the inline one. */
export type HeaderReader = (file: string, known: KnownFileInfo | undefined) => Promise<HeaderRecord>;

export interface ImportOptions {
  signal?: AbortSignal;
  /** Called per file (successes throttled to `progressIntervalMs`; failures and the last file always). */
  onProgress?: (event: Omit<ImportProgressEvent, 'runId'>) => void;
  /** Called after each committed batch with the studies it touched. */
  onCommitted?: (studyUids: string[]) => void;
}

export interface ImporterSettings {
  /** Files committed per transaction. Defaults to 64. */
  batchSize?: number;
  /** Minimum time between two success progress events. Defaults to 100 ms. */
  progressIntervalMs?: number;
  /**
   * Files read ahead of the one being indexed, so that reading and parsing overlap (and run on every worker of a
   * pool). Defaults to 4.
   */
  readAhead?: number;
}

interface Pending {
  file: string;
  record: IndexedInstance;
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

async function expand(
  paths: string[],
  signal: AbortSignal | undefined,
  known: Map<string, KnownFileInfo>,
): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = async (path: string): Promise<void> => {
    if (signal?.aborted) return;
    const full = resolve(path);
    if (seen.has(full)) return;
    seen.add(full);
    const info = await stat(full).catch(() => null);
    if (!info) {
      files.push(full); // recorded as a failure with the reason when processed
      return;
    }
    if (info.isDirectory()) {
      const entries = await readdir(full, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
      for (const entry of entries) {
        if (!isHidden(entry.name)) await visit(join(full, entry.name));
      }
    } else if (info.isFile()) {
      files.push(full);
      known.set(full, { size: info.size, mtimeMs: info.mtimeMs });
    }
  };
  for (const path of paths) await visit(path);
  return files;
}

/** Finds a DICOMDIR-referenced file, matching case-insensitively as CD file systems do. */
async function resolveReferenced(root: string, fileId: string[]): Promise<string | null> {
  let current = root;
  for (const component of fileId) {
    const exact = join(current, component);
    if (existsSync(exact)) {
      current = exact;
      continue;
    }
    const entries = await readdir(current).catch(() => [] as string[]);
    const match = entries.find(
      (e) => e.toLowerCase() === component.toLowerCase() || e.toLowerCase() === `${component.toLowerCase()}.`,
    );
    if (!match) return null;
    current = join(current, match);
  }
  return current;
}

/**
 * Imports files, folders (recursively) and DICOMDIRs into the study index, reading only headers. Each file ends
 * imported, already present, skipped (a DICOMDIR, read for its references) or failed with a named reason; batches are
 * committed as they fill, so a cancelled import keeps what it committed.
 */
export async function importStudies(
  index: StudyIndex,
  paths: string[],
  options: ImportOptions = {},
  settings: ImporterSettings = {},
  readHeader: HeaderReader = readHeaderRecord,
): Promise<ImportSummary & { cancelled: boolean }> {
  const batchSize = settings.batchSize ?? 64;
  const interval = settings.progressIntervalMs ?? 100;
  const readAhead = Math.max(1, settings.readAhead ?? 4);
  const { signal } = options;
  const known = new Map<string, KnownFileInfo>();
  const queue = await expand(paths, signal, known);
  const queued = new Set(queue);
  const summary: ImportSummary = { filesSeen: 0, imported: 0, alreadyPresent: 0, failed: [], skipped: [], studies: [] };
  const studies = new Set<string>();
  let pending: Pending[] = [];
  let lastProgress = 0;

  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const touchedSeries = new Set<string>();
    const touchedStudies = new Set<string>();
    index.transaction(() => {
      for (const { file, record } of batch) {
        const added = index.addInstance(record, existsSync);
        const note =
          added.outcome === 'present'
            ? {
                code: 'ALREADY_PRESENT',
                message:
                  added.indexedPath === file
                    ? 'already indexed from this file'
                    : `same SOP Instance UID as ${added.indexedPath}, which is already indexed`,
              }
            : null;
        index.recordFile(file, added.outcome, note, record.instance.sopUid);
        if (added.outcome === 'imported') {
          summary.imported++;
          touchedSeries.add(record.series.uid);
          touchedStudies.add(record.study.uid);
        } else {
          summary.alreadyPresent++;
        }
        studies.add(record.study.uid);
      }
      for (const series of touchedSeries) index.reorderSeries(series);
    });
    if (touchedStudies.size > 0) options.onCommitted?.([...touchedStudies]);
  };

  const progress = (file: string, error: { code: string; message: string } | null, force = false): void => {
    const now = Date.now();
    if (!force && !error && now - lastProgress < interval) return;
    lastProgress = now;
    options.onProgress?.({
      file,
      filesDone: summary.filesSeen,
      filesTotal: queue.length,
      imported: summary.imported + pending.length,
      skipped: summary.alreadyPresent + summary.skipped.length,
      error,
    });
  };

  const fail = (file: string, error: unknown): void => {
    const payload = toErrorPayload(error);
    summary.failed.push({ file, ...payload });
    index.recordFile(file, 'failed', payload, null);
    progress(file, payload);
  };

  // Headers are read ahead (up to `readAhead` in flight) and consumed in queue order, so outcomes, progress and the
  // files a DICOMDIR appends keep the order of a sequential import.
  const inFlight = new Map<number, Promise<HeaderRecord>>();
  let nextToRead = 0;
  const fillReadAhead = (): void => {
    while (nextToRead < queue.length && inFlight.size < readAhead && !signal?.aborted) {
      const file = queue[nextToRead]!;
      const reading = readHeader(file, known.get(file));
      reading.catch(() => undefined); // consumed in order below; never an unhandled rejection meanwhile
      inFlight.set(nextToRead++, reading);
    }
  };

  let cancelled = false;
  for (let i = 0; i < queue.length; i++) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    fillReadAhead();
    const file = queue[i]!;
    const reading = inFlight.get(i)!;
    inFlight.delete(i);
    summary.filesSeen++;
    try {
      const header = await reading;
      if (header.kind === 'dicomdir') {
        const { entries } = header;
        let added = 0;
        let missing = 0;
        for (const entry of entries) {
          const referenced = await resolveReferenced(dirname(file), entry.fileId);
          if (!referenced) {
            missing++;
            fail(
              join(dirname(file), ...entry.fileId),
              new DicomError('NOT_DICOM', `${file} references ${entry.fileId.join('/')}, which is not on disk`),
            );
          } else if (!queued.has(referenced)) {
            queued.add(referenced);
            queue.push(referenced);
            added++;
          }
        }
        const note = {
          code: 'DICOMDIR',
          message: `media directory listing ${entries.length} files (${entries.length - missing} found${added ? `, ${added} added to this import` : ''}); the listed files are imported, the directory itself holds no image`,
        };
        summary.skipped.push({ file, ...note });
        index.recordFile(file, 'skipped', note, null);
        progress(file, null, true);
        continue;
      }
      pending.push({ file, record: header.record });
      if (pending.length >= batchSize) flush();
      progress(file, null, i === queue.length - 1);
    } catch (error) {
      fail(file, error);
    }
  }
  // Reads started before a cancel finish in the background; their results are not indexed.
  inFlight.clear();
  flush();
  summary.studies = [...studies];
  return { ...summary, cancelled };
}
