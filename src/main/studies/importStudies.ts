import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ImportProgressEvent, ImportSummary } from '../../shared/contract';
import { AppError, toErrorPayload } from '../errors/AppError';
import { undisplayableReason } from '../dicom/decodeFrame';
import { DicomError } from '../dicom/dicomErrors';
import { mediaDirectorySopClassUid, readDicomdirEntries } from '../dicom/dicomTags';
import { contentHash, imageFormatOf, imageSize, uidFromHash } from '../dicom/imageFiles';
import { readDicomFile, readDicomHeader, type ParsedDicom } from '../dicom/readDicom';
import type { IndexedInstance, StudyIndex } from './StudyIndex';

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
}

interface Pending {
  file: string;
  record: IndexedInstance;
}

const reportSopClassPrefix = '1.2.840.10008.5.1.4.1.1.88.';

function isHidden(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

async function expand(paths: string[], signal: AbortSignal | undefined): Promise<string[]> {
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
    }
  };
  for (const path of paths) await visit(path);
  return files;
}

function recordFromDicom(parsed: ParsedDicom, path: string, size: number, mtimeMs: number): IndexedInstance {
  const { patient, study, series, instance, imagePlane, imagePixel, multiFrame, sr } = parsed.modules;
  const missing = [
    study.studyInstanceUid ? null : 'StudyInstanceUID',
    series.seriesInstanceUid ? null : 'SeriesInstanceUID',
    instance.sopInstanceUid ? null : 'SOPInstanceUID',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new DicomError(
      'DICOM_MISSING_UID',
      `${path}: expected ${missing.join(', ')} to group the instance, found none`,
    );
  }
  const isReport = instance.sopClassUid.startsWith(reportSopClassPrefix) || series.modality === 'SR';
  const firstFrame = multiFrame?.frames[0];
  return {
    kind: 'dicom',
    patient: {
      name: patient.name.display,
      nameRaw: patient.name.raw,
      id: patient.id,
      birthDate: patient.birthDate,
      sex: patient.sex,
    },
    study: {
      uid: study.studyInstanceUid,
      date: study.date,
      time: study.time,
      accessionNumber: study.accessionNumber,
      description: study.description,
    },
    series: {
      uid: series.seriesInstanceUid,
      modality: series.modality,
      seriesNumber: series.seriesNumber,
      description: series.description,
      bodyPart: series.bodyPart,
      isReport,
    },
    instance: {
      sopUid: instance.sopInstanceUid,
      path,
      fileSize: size,
      fileMtimeMs: mtimeMs,
      sopClassUid: instance.sopClassUid,
      transferSyntaxUid: parsed.modules.fileMeta.transferSyntaxUid,
      instanceNumber: instance.instanceNumber,
      rows: imagePixel?.rows ?? null,
      columns: imagePixel?.columns ?? null,
      frames: imagePixel?.numberOfFrames ?? (parsed.modules.hasPixelData ? 1 : 0),
      position: imagePlane.position ?? firstFrame?.position ?? null,
      orientation: imagePlane.orientation ?? firstFrame?.orientation ?? null,
      undisplayable: undisplayableReason(parsed),
      reportText: sr ? [sr.documentTitle, sr.text].filter(Boolean).join('\n') : null,
    },
  };
}

function recordFromImage(path: string, bytes: Uint8Array, size: number, mtimeMs: number): IndexedInstance {
  const format = imageFormatOf(bytes)!;
  const dimensions = imageSize(bytes, format);
  const hash = contentHash(bytes);
  const name = basename(path);
  return {
    kind: 'image',
    patient: { name: name.replace(/\.[^.]+$/, ''), nameRaw: '', id: '', birthDate: null, sex: null },
    study: { uid: uidFromHash('study', hash), date: null, time: null, accessionNumber: null, description: name },
    series: {
      uid: uidFromHash('series', hash),
      modality: 'OT',
      seriesNumber: 1,
      description: `${format.toUpperCase()} image`,
      bodyPart: null,
      isReport: false,
    },
    instance: {
      sopUid: uidFromHash('instance', hash),
      path,
      fileSize: size,
      fileMtimeMs: mtimeMs,
      sopClassUid: '',
      transferSyntaxUid: '',
      instanceNumber: 1,
      rows: dimensions?.height ?? null,
      columns: dimensions?.width ?? null,
      frames: 1,
      position: null,
      orientation: null,
      undisplayable: null,
      reportText: null,
    },
  };
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
): Promise<ImportSummary & { cancelled: boolean }> {
  const batchSize = settings.batchSize ?? 64;
  const interval = settings.progressIntervalMs ?? 100;
  const { signal } = options;
  const queue = await expand(paths, signal);
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

  let cancelled = false;
  for (let i = 0; i < queue.length; i++) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    const file = queue[i]!;
    summary.filesSeen++;
    try {
      const header = await readDicomHeader(file).catch(async (error: unknown) => {
        // Not DICOM: a plain PNG/JPEG is an image study; anything else keeps the DICOM reader's reason.
        const errno = (error as NodeJS.ErrnoException).code;
        if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR' || errno === 'EPERM') {
          throw new AppError(
            'FILE_UNREADABLE',
            `${file}: expected a readable file, found ${errno} (${(error as Error).message})`,
          );
        }
        if (!(error instanceof DicomError && error.code === 'NOT_DICOM')) throw error;
        const bytes = new Uint8Array(await readFile(file));
        if (!imageFormatOf(bytes)) throw error;
        const info = await stat(file);
        pending.push({ file, record: recordFromImage(file, bytes, info.size, info.mtimeMs) });
        return null;
      });
      if (header) {
        const { parsed, size, mtimeMs } = header;
        if (parsed.modules.fileMeta.mediaStorageSopClassUid === mediaDirectorySopClassUid) {
          const directory = await readDicomFile(file);
          const entries = readDicomdirEntries(directory.dataset);
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
        pending.push({ file, record: recordFromDicom(parsed, file, size, mtimeMs) });
      }
      if (pending.length >= batchSize) flush();
      progress(file, null, i === queue.length - 1);
    } catch (error) {
      fail(file, error);
    }
  }
  flush();
  summary.studies = [...studies];
  return { ...summary, cancelled };
}
