import type { InstanceSummary, SeriesSummary, StudyQuery, StudySummary } from '../../shared/contract';
import type { Orientation, Vec3 } from '../dicom/dicomModules';
import { migrate } from '../store/migrations';
import type { Db } from '../store/openStore';
import { orderSeries } from './orderSeries';
import { studiesMigrations } from './studiesMigrations';
import { basename } from 'node:path';

/** What the index keeps of one instance: identity, grouping, geometry for ordering, and where its file is. */
export interface IndexedInstance {
  kind: 'dicom' | 'image';
  patient: { name: string; nameRaw: string; id: string; birthDate: string | null; sex: string | null };
  study: { uid: string; date: string | null; time: string | null; accessionNumber: string | null; description: string };
  series: {
    uid: string;
    modality: string;
    seriesNumber: number | null;
    description: string;
    bodyPart: string | null;
    isReport: boolean;
  };
  instance: {
    sopUid: string;
    path: string;
    fileSize: number;
    fileMtimeMs: number;
    sopClassUid: string;
    transferSyntaxUid: string;
    instanceNumber: number | null;
    rows: number | null;
    columns: number | null;
    frames: number;
    position: Vec3 | null;
    orientation: Orientation | null;
    undisplayable: { code: string; message: string } | null;
    reportText: string | null;
  };
}

/** Where an instance's file is and what the decoder needs to know before opening it. */
export interface InstanceLocation {
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  kind: 'dicom' | 'image';
  path: string;
  frames: number;
  rows: number | null;
  columns: number | null;
  transferSyntaxUid: string;
  undisplayableCode: string | null;
  undisplayableReason: string | null;
}

export type FileStatus = 'imported' | 'present' | 'failed' | 'skipped';

export interface FileOutcome {
  path: string;
  status: FileStatus;
  code: string | null;
  message: string | null;
  sopInstanceUid: string | null;
}

interface StudyRow {
  study_uid: string;
  kind: 'dicom' | 'image';
  patient_name: string;
  patient_id: string;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  description: string;
  modalities: string | null;
  series_count: number;
  instance_count: number;
}

interface SeriesRow {
  series_uid: string;
  study_uid: string;
  modality: string;
  series_number: number | null;
  description: string;
  warnings: string;
  is_report: number;
  instance_count: number;
  frame_count: number | null;
}

interface InstanceRow {
  sop_uid: string;
  series_uid: string;
  instance_number: number | null;
  rows: number | null;
  columns: number | null;
  frames: number;
  transfer_syntax_uid: string;
  sop_class_uid: string;
  slice_position: number | null;
  undisplayable_reason: string | null;
  path: string;
  position: string | null;
  orientation: string | null;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The study index in the shared SQLite store (domain "studies"): synchronous, statements prepared once, batches in a
 * transaction. Idempotent by SOP Instance UID.
 */
export class StudyIndex {
  readonly #db: Db;
  readonly #statements;
  /**
   * Study and series rows upserted in the running transaction, with the values they were upserted with: the same
   * values again (every other instance of a series) would change nothing, so the statement is skipped. Only inside a
   * transaction, where nothing else can change those rows in between.
   */
  #upserted: Map<string, string> | null = null;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'studies', studiesMigrations);
    this.#statements = {
      insertStudy: db.prepare(`
        INSERT INTO study (study_uid, kind, patient_name, patient_name_raw, patient_id, patient_birth_date, patient_sex,
          study_date, study_time, accession_number, description, search_text, imported_at)
        VALUES (@uid, @kind, @patientName, @patientNameRaw, @patientId, @birthDate, @sex, @date, @time, @accession,
          @description, @searchText, @importedAt)
        ON CONFLICT (study_uid) DO UPDATE SET
          description = CASE WHEN study.description = '' THEN excluded.description ELSE study.description END,
          study_date = COALESCE(study.study_date, excluded.study_date),
          study_time = COALESCE(study.study_time, excluded.study_time),
          accession_number = COALESCE(study.accession_number, excluded.accession_number)`),
      insertSeries: db.prepare(`
        INSERT INTO study_series (series_uid, study_uid, modality, series_number, description, body_part, is_report)
        VALUES (@uid, @studyUid, @modality, @seriesNumber, @description, @bodyPart, @isReport)
        ON CONFLICT (series_uid) DO UPDATE SET
          description = CASE WHEN study_series.description = '' THEN excluded.description ELSE study_series.description END`),
      findInstance: db.prepare('SELECT path FROM study_instance WHERE sop_uid = ?'),
      insertInstance: db.prepare(`
        INSERT INTO study_instance (sop_uid, series_uid, path, file_size, file_mtime_ms, sop_class_uid, transfer_syntax_uid,
          instance_number, rows, columns, frames, position, orientation, undisplayable_code, undisplayable_reason, report_text)
        VALUES (@sopUid, @seriesUid, @path, @fileSize, @fileMtimeMs, @sopClassUid, @transferSyntaxUid, @instanceNumber,
          @rows, @columns, @frames, @position, @orientation, @undisplayableCode, @undisplayableReason, @reportText)`),
      relocateInstance: db.prepare(
        'UPDATE study_instance SET path = ?, file_size = ?, file_mtime_ms = ? WHERE sop_uid = ?',
      ),
      recordFile: db.prepare(`
        INSERT INTO study_import_file (path, status, code, message, sop_uid, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (path) DO UPDATE SET status = excluded.status, code = excluded.code, message = excluded.message,
          sop_uid = excluded.sop_uid, updated_at = excluded.updated_at`),
      seriesInstances: db.prepare(
        'SELECT sop_uid, instance_number, position, orientation, path FROM study_instance WHERE series_uid = ?',
      ),
      setOrder: db.prepare('UPDATE study_instance SET sort_index = ?, slice_position = ? WHERE sop_uid = ?'),
      setWarnings: db.prepare('UPDATE study_series SET warnings = ? WHERE series_uid = ?'),
      series: db.prepare(`
        SELECT s.series_uid, s.study_uid, s.modality, s.series_number, s.description, s.warnings, s.is_report,
          COUNT(i.sop_uid) AS instance_count, SUM(i.frames) AS frame_count
        FROM study_series s LEFT JOIN study_instance i ON i.series_uid = s.series_uid
        WHERE s.study_uid = ? GROUP BY s.series_uid
        ORDER BY s.is_report, s.series_number IS NULL, s.series_number, s.description`),
      instances: db.prepare(`
        SELECT sop_uid, series_uid, instance_number, rows, columns, frames, transfer_syntax_uid, sop_class_uid,
          slice_position, undisplayable_reason, path, position, orientation
        FROM study_instance WHERE series_uid = ?
        ORDER BY sort_index IS NULL, sort_index, instance_number, path`),
      location: db.prepare(`
        SELECT i.sop_uid, i.series_uid, s.study_uid, st.kind, i.path, i.frames, i.rows, i.columns, i.transfer_syntax_uid,
          i.undisplayable_code, i.undisplayable_reason
        FROM study_instance i JOIN study_series s ON s.series_uid = i.series_uid JOIN study st ON st.study_uid = s.study_uid
        WHERE i.sop_uid = ?`),
      reportText: db.prepare('SELECT report_text FROM study_instance WHERE sop_uid = ?'),
      removeStudy: db.prepare('DELETE FROM study WHERE study_uid = ?'),
      fileOutcomes: db.prepare('SELECT path, status, code, message, sop_uid FROM study_import_file ORDER BY path'),
      getMeta: db.prepare('SELECT value FROM study_meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO study_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /**
   * Adds one instance (and its study and series when new). Returns 'present' when the SOP Instance UID is already
   * indexed; the stored path then follows the new file only if the old one is gone (`oldPathExists`).
   */
  addInstance(
    record: IndexedInstance,
    oldPathExists: (path: string) => boolean,
  ): { outcome: 'imported' } | { outcome: 'present'; indexedPath: string } {
    const s = this.#statements;
    const existing = s.findInstance.get(record.instance.sopUid) as { path: string } | undefined;
    if (existing) {
      if (existing.path !== record.instance.path && !oldPathExists(existing.path)) {
        s.relocateInstance.run(
          record.instance.path,
          record.instance.fileSize,
          record.instance.fileMtimeMs,
          record.instance.sopUid,
        );
        return { outcome: 'present', indexedPath: record.instance.path };
      }
      return { outcome: 'present', indexedPath: existing.path };
    }
    const { patient, study, series, instance } = record;
    const studyValues = JSON.stringify([
      record.kind,
      patient.name,
      patient.nameRaw,
      patient.id,
      patient.birthDate,
      patient.sex,
      study.date,
      study.time,
      study.accessionNumber,
      study.description,
    ]);
    if (!this.#alreadyUpserted(`study ${study.uid}`, studyValues)) {
      s.insertStudy.run({
        uid: study.uid,
        kind: record.kind,
        patientName: patient.name,
        patientNameRaw: patient.nameRaw,
        patientId: patient.id,
        birthDate: patient.birthDate,
        sex: patient.sex,
        date: study.date,
        time: study.time,
        accession: study.accessionNumber,
        description: study.description,
        searchText: [patient.name, patient.nameRaw, patient.id, study.accessionNumber ?? '', study.description]
          .join(' ')
          .toLowerCase(),
        importedAt: new Date().toISOString(),
      });
    }
    const seriesValues = JSON.stringify([
      study.uid,
      series.modality,
      series.seriesNumber,
      series.description,
      series.bodyPart,
      series.isReport,
    ]);
    if (!this.#alreadyUpserted(`series ${series.uid}`, seriesValues)) {
      s.insertSeries.run({
        uid: series.uid,
        studyUid: study.uid,
        modality: series.modality,
        seriesNumber: series.seriesNumber,
        description: series.description,
        bodyPart: series.bodyPart,
        isReport: series.isReport ? 1 : 0,
      });
    }
    s.insertInstance.run({
      sopUid: instance.sopUid,
      seriesUid: series.uid,
      path: instance.path,
      fileSize: instance.fileSize,
      fileMtimeMs: instance.fileMtimeMs,
      sopClassUid: instance.sopClassUid,
      transferSyntaxUid: instance.transferSyntaxUid,
      instanceNumber: instance.instanceNumber,
      rows: instance.rows,
      columns: instance.columns,
      frames: instance.frames,
      position: instance.position ? JSON.stringify(instance.position) : null,
      orientation: instance.orientation ? JSON.stringify(instance.orientation) : null,
      undisplayableCode: instance.undisplayable?.code ?? null,
      undisplayableReason: instance.undisplayable?.message ?? null,
      reportText: instance.reportText,
    });
    return { outcome: 'imported' };
  }

  recordFile(
    path: string,
    status: FileStatus,
    reason: { code: string; message: string } | null,
    sopUid: string | null,
  ): void {
    this.#statements.recordFile.run(
      path,
      status,
      reason?.code ?? null,
      reason?.message ?? null,
      sopUid,
      new Date().toISOString(),
    );
  }

  /** Recomputes display order and warnings of a series (after instances were added). */
  reorderSeries(seriesUid: string): void {
    const rows = this.#statements.seriesInstances.all(seriesUid) as {
      sop_uid: string;
      instance_number: number | null;
      position: string | null;
      orientation: string | null;
      path: string;
    }[];
    const { order, warnings } = orderSeries(
      rows.map((r) => ({
        key: r.sop_uid,
        instanceNumber: r.instance_number,
        position: r.position ? (JSON.parse(r.position) as Vec3) : null,
        orientation: r.orientation ? (JSON.parse(r.orientation) as Orientation) : null,
        label: basename(r.path),
      })),
    );
    order.forEach((o, index) => this.#statements.setOrder.run(index, o.slicePosition, o.key));
    this.#statements.setWarnings.run(JSON.stringify(warnings), seriesUid);
  }

  /** Runs `work` in one transaction (a batch of an import). */
  transaction<T>(work: () => T): T {
    this.#upserted = new Map();
    try {
      return this.#db.transaction(work)();
    } finally {
      this.#upserted = null;
    }
  }

  /** Whether `key` was upserted with exactly `values` earlier in this transaction (and records it now if not). */
  #alreadyUpserted(key: string, values: string): boolean {
    if (!this.#upserted) return false;
    if (this.#upserted.get(key) === values) return true;
    this.#upserted.set(key, values);
    return false;
  }

  listStudies(query: StudyQuery): StudySummary[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.text?.trim()) {
      where.push(`(st.search_text LIKE @text ESCAPE '\\' OR EXISTS (SELECT 1 FROM study_series x WHERE x.study_uid = st.study_uid
        AND (lower(x.description) LIKE @text ESCAPE '\\' OR lower(x.modality) LIKE @text ESCAPE '\\')))`);
      params['text'] = `%${escapeLike(query.text.trim().toLowerCase())}%`;
    }
    if (query.patient?.trim()) {
      const patient = query.patient.trim().toLowerCase();
      where.push(`(lower(st.patient_name) LIKE @patient ESCAPE '\\' OR lower(st.patient_name_raw) LIKE @patientRaw ESCAPE '\\'
        OR lower(st.patient_id) LIKE @patient ESCAPE '\\')`);
      params['patient'] = `%${escapeLike(patient)}%`;
      params['patientRaw'] = `%${escapeLike(patient.replace(/[,\s]+/g, '^'))}%`;
    }
    if (query.modality?.trim()) {
      where.push('EXISTS (SELECT 1 FROM study_series m WHERE m.study_uid = st.study_uid AND m.modality = @modality)');
      params['modality'] = query.modality.trim().toUpperCase();
    }
    if (query.dateFrom) {
      where.push('st.study_date >= @dateFrom');
      params['dateFrom'] = query.dateFrom;
    }
    if (query.dateTo) {
      where.push('st.study_date <= @dateTo');
      params['dateTo'] = query.dateTo;
    }
    params['limit'] = Math.max(1, Math.min(query.limit ?? 500, 10_000));
    const rows = this.#db
      .prepare(
        `SELECT st.study_uid, st.kind, st.patient_name, st.patient_id, st.study_date, st.study_time, st.accession_number,
          st.description,
          (SELECT group_concat(DISTINCT s.modality) FROM study_series s WHERE s.study_uid = st.study_uid AND s.modality <> '') AS modalities,
          (SELECT COUNT(*) FROM study_series s WHERE s.study_uid = st.study_uid) AS series_count,
          (SELECT COUNT(*) FROM study_instance i JOIN study_series s ON s.series_uid = i.series_uid WHERE s.study_uid = st.study_uid) AS instance_count
        FROM study st ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY st.study_date IS NULL, st.study_date DESC, st.study_time DESC, st.imported_at DESC
        LIMIT @limit`,
      )
      .all(params) as StudyRow[];
    return rows.map((r) => ({
      studyInstanceUid: r.study_uid,
      patientName: r.patient_name,
      patientId: r.patient_id,
      studyDate: r.study_date,
      studyTime: r.study_time,
      accessionNumber: r.accession_number,
      description: r.description,
      modalities: r.modalities ? r.modalities.split(',').sort() : [],
      seriesCount: r.series_count,
      instanceCount: r.instance_count,
      kind: r.kind,
    }));
  }

  listSeries(studyUid: string): SeriesSummary[] {
    return (this.#statements.series.all(studyUid) as SeriesRow[]).map((r) => ({
      seriesInstanceUid: r.series_uid,
      studyInstanceUid: r.study_uid,
      modality: r.modality,
      seriesNumber: r.series_number,
      description: r.description,
      instanceCount: r.instance_count,
      frameCount: r.frame_count ?? 0,
      warnings: JSON.parse(r.warnings) as string[],
      isReport: r.is_report === 1,
    }));
  }

  listInstances(seriesUid: string): InstanceSummary[] {
    return (this.#statements.instances.all(seriesUid) as InstanceRow[]).map((r) => ({
      sopInstanceUid: r.sop_uid,
      seriesInstanceUid: r.series_uid,
      instanceNumber: r.instance_number,
      rows: r.rows,
      columns: r.columns,
      frames: r.frames,
      transferSyntaxUid: r.transfer_syntax_uid,
      sopClassUid: r.sop_class_uid,
      sliceLocation: r.slice_position,
      undisplayableReason: r.undisplayable_reason,
    }));
  }

  location(sopUid: string): InstanceLocation | null {
    const row = this.#statements.location.get(sopUid) as
      | {
          sop_uid: string;
          series_uid: string;
          study_uid: string;
          kind: 'dicom' | 'image';
          path: string;
          frames: number;
          rows: number | null;
          columns: number | null;
          transfer_syntax_uid: string;
          undisplayable_code: string | null;
          undisplayable_reason: string | null;
        }
      | undefined;
    if (!row) return null;
    return {
      sopUid: row.sop_uid,
      seriesUid: row.series_uid,
      studyUid: row.study_uid,
      kind: row.kind,
      path: row.path,
      frames: row.frames,
      rows: row.rows,
      columns: row.columns,
      transferSyntaxUid: row.transfer_syntax_uid,
      undisplayableCode: row.undisplayable_code,
      undisplayableReason: row.undisplayable_reason,
    };
  }

  reportText(sopUid: string): string | null {
    return (this.#statements.reportText.get(sopUid) as { report_text: string | null } | undefined)?.report_text ?? null;
  }

  removeStudy(studyUid: string): boolean {
    return this.#statements.removeStudy.run(studyUid).changes > 0;
  }

  fileOutcomes(): FileOutcome[] {
    return (
      this.#statements.fileOutcomes.all() as {
        path: string;
        status: FileStatus;
        code: string | null;
        message: string | null;
        sop_uid: string | null;
      }[]
    ).map((r) => ({ path: r.path, status: r.status, code: r.code, message: r.message, sopInstanceUid: r.sop_uid }));
  }

  getMeta(key: string): string | null {
    return (this.#statements.getMeta.get(key) as { value: string } | undefined)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#statements.setMeta.run(key, value);
  }
}
