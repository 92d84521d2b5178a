import { existsSync } from 'node:fs';
import type { Stats } from 'node:fs';
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
  /**
   * Files committed per transaction at most. Defaults to 64. A batch is also committed as soon as the next header is
   * not read yet, so that indexing runs while the readers work.
   */
  batchSize?: number;
  /** Minimum time between two recomputations of the order of the series an import touches. Defaults to 250 ms. */
  reorderIntervalMs?: number;
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

/**
 * The files under `paths`, in a stable order (folders depth-first, names in natural order). The paths given are
 * stat'ed together; inside folders the directory entries' own types say file or folder, so only symbolic links and
 * other oddities cost a stat (a sequential stat per file was most of a small import's latency). `known` gets size and
 * mtime where a stat gave them; the header reader finds them itself otherwise.
 */
async function expand(
  paths: string[],
  signal: AbortSignal | undefined,
  known: Map<string, KnownFileInfo>,
): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = async (full: string, info: Stats | null): Promise<void> => {
    if (signal?.aborted || seen.has(full)) return;
    seen.add(full);
    if (!info) {
      files.push(full); // recorded as a failure with the reason when processed
    } else if (info.isDirectory()) {
      const entries = await readdir(full, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
      for (const entry of entries) {
        if (isHidden(entry.name)) continue;
        const path = join(full, entry.name);
        if (entry.isFile()) {
          if (!seen.has(path)) {
            seen.add(path);
            files.push(path);
          }
        } else {
          await visit(path, await stat(path).catch(() => null));
        }
      }
    } else if (info.isFile()) {
      files.push(full);
      known.set(full, { size: info.size, mtimeMs: info.mtimeMs });
    }
  };
  const roots = paths.map((path) => resolve(path));
  const infos = await Promise.all(roots.map((root) => stat(root).catch(() => null)));
  for (let i = 0; i < roots.length; i++) await visit(roots[i]!, infos[i]!);
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
  const reorderInterval = settings.reorderIntervalMs ?? 250;
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

  // Series whose order is recomputed at most every `reorderInterval` ms and at the end: a 1,000-slice series
  // reordered at every batch would cost more than its import. Until then a series lists by instance number.
  const unordered = new Set<string>();
  let lastReorder = Date.now();

  const flush = (final = false): void => {
    if (pending.length === 0 && !(final && unordered.size > 0)) return;
    const batch = pending;
    pending = [];
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
          unordered.add(record.series.uid);
          touchedStudies.add(record.study.uid);
        } else {
          summary.alreadyPresent++;
        }
        studies.add(record.study.uid);
      }
      if (final || Date.now() - lastReorder >= reorderInterval) {
        for (const series of unordered) index.reorderSeries(series);
        unordered.clear();
        lastReorder = Date.now();
      }
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
  /** Indexes (in the queue) of the reads that have settled, so the loop knows whether awaiting the next would wait. */
  const settled = new Set<number>();
  let nextToRead = 0;
  const fillReadAhead = (): void => {
    while (nextToRead < queue.length && inFlight.size < readAhead && !signal?.aborted) {
      const at = nextToRead++;
      const file = queue[at]!;
      const reading = readHeader(file, known.get(file));
      // Consumed in order below; never an unhandled rejection meanwhile.
      reading.then(
        () => settled.add(at),
        () => settled.add(at),
      );
      inFlight.set(at, reading);
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
    // The next header is still being read: commit what is pending now rather than wait idle.
    if (!settled.delete(i)) flush();
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
  flush(true);
  summary.studies = [...studies];
  return { ...summary, cancelled };
}
