/**
 * One file's entry for the study index, read from its header only: what the import needs to index it, as plain data
 * (structured-cloneable, so a worker can produce it). DICOM files are parsed up to Pixel Data; plain PNG/JPEG images
 * become single-image studies; a DICOMDIR yields the files it references.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AppError } from '../errors/AppError';
import { undisplayableReason } from '../dicom/decodeFrame';
import { DicomError } from '../dicom/dicomErrors';
import type { DicomdirEntry } from '../dicom/dicomModules';
import { mediaDirectorySopClassUid, readDicomdirEntries } from '../dicom/dicomTags';
import { contentHash, imageFormatOf, imageSize, uidFromHash } from '../dicom/imageFiles';
import { readDicomFile, readDicomHeader, readDicomHeaderSync, type ParsedDicom } from '../dicom/readDicom';
import type { IndexedInstance } from './StudyIndex';

export type HeaderRecord =
  { kind: 'instance'; record: IndexedInstance } | { kind: 'dicomdir'; entries: DicomdirEntry[] };

/** Size and modification time from the folder walk, when it has them. */
export interface KnownFileInfo {
  size: number;
  mtimeMs: number;
}

const reportSopClassPrefix = '1.2.840.10008.5.1.4.1.1.88.';

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

/**
 * Reads one file's index entry (`blockingReads` for worker threads; defaults to asynchronous reads). Throws AppError
 * FILE_UNREADABLE for files that cannot be opened, and the DICOM
 * reader's named reason (NOT_DICOM, DICOM_TRUNCATED, DICOM_MISSING_UID…) for files that are neither DICOM nor a plain
 * image.
 */
export async function readHeaderRecord(
  file: string,
  known?: KnownFileInfo,
  options: { blockingReads?: boolean } = {},
): Promise<HeaderRecord> {
  let header;
  try {
    // Worker threads read the head with blocking calls: cheaper than three asynchronous round trips per file.
    header = options.blockingReads ? readDicomHeaderSync(file, known) : await readDicomHeader(file, known);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR' || errno === 'EPERM') {
      throw new AppError(
        'FILE_UNREADABLE',
        `${file}: expected a readable file, found ${errno} (${(error as Error).message})`,
      );
    }
    // Not DICOM: a plain PNG/JPEG is an image study; anything else keeps the DICOM reader's reason.
    if (!(error instanceof DicomError && error.code === 'NOT_DICOM')) throw error;
    const bytes = new Uint8Array(await readFile(file));
    if (!imageFormatOf(bytes)) throw error;
    const info = known ?? (await stat(file));
    return { kind: 'instance', record: recordFromImage(file, bytes, info.size, info.mtimeMs) };
  }
  const { parsed, size, mtimeMs, wholeFile } = header;
  if (parsed.modules.fileMeta.mediaStorageSopClassUid === mediaDirectorySopClassUid) {
    // The header parse of a small DICOMDIR already holds every directory record.
    const directory = wholeFile ? parsed : await readDicomFile(file);
    return { kind: 'dicomdir', entries: readDicomdirEntries(directory.dataset) };
  }
  return { kind: 'instance', record: recordFromDicom(parsed, file, size, mtimeMs) };
}
