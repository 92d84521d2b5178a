import type { Migration } from '../store/migrations';

/**
 * The "studies" domain of the shared store: patient/study → series → instance, pointing at files on disk (pixel data
 * is never copied), and one row per imported path with its outcome.
 */
export const studiesMigrations: Migration[] = [
  {
    version: 1,
    description: 'study, series, instance and import-file tables',
    up(db) {
      db.exec(`
        CREATE TABLE study (
          study_uid TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('dicom', 'image')),
          patient_name TEXT NOT NULL DEFAULT '',
          patient_name_raw TEXT NOT NULL DEFAULT '',
          patient_id TEXT NOT NULL DEFAULT '',
          patient_birth_date TEXT,
          patient_sex TEXT,
          study_date TEXT,
          study_time TEXT,
          accession_number TEXT,
          description TEXT NOT NULL DEFAULT '',
          search_text TEXT NOT NULL DEFAULT '',
          imported_at TEXT NOT NULL
        );
        CREATE INDEX study_date_idx ON study (study_date DESC, study_time DESC);

        CREATE TABLE study_series (
          series_uid TEXT PRIMARY KEY,
          study_uid TEXT NOT NULL REFERENCES study (study_uid) ON DELETE CASCADE,
          modality TEXT NOT NULL DEFAULT '',
          series_number INTEGER,
          description TEXT NOT NULL DEFAULT '',
          body_part TEXT,
          is_report INTEGER NOT NULL DEFAULT 0,
          warnings TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX study_series_study_idx ON study_series (study_uid);

        CREATE TABLE study_instance (
          sop_uid TEXT PRIMARY KEY,
          series_uid TEXT NOT NULL REFERENCES study_series (series_uid) ON DELETE CASCADE,
          path TEXT NOT NULL,
          file_size INTEGER NOT NULL,
          file_mtime_ms REAL NOT NULL,
          sop_class_uid TEXT NOT NULL DEFAULT '',
          transfer_syntax_uid TEXT NOT NULL DEFAULT '',
          instance_number INTEGER,
          rows INTEGER,
          columns INTEGER,
          frames INTEGER NOT NULL DEFAULT 1,
          position TEXT,
          orientation TEXT,
          slice_position REAL,
          sort_index INTEGER,
          undisplayable_code TEXT,
          undisplayable_reason TEXT,
          report_text TEXT
        );
        CREATE INDEX study_instance_series_idx ON study_instance (series_uid, sort_index);
        CREATE INDEX study_instance_path_idx ON study_instance (path);

        CREATE TABLE study_import_file (
          path TEXT PRIMARY KEY,
          status TEXT NOT NULL CHECK (status IN ('imported', 'present', 'failed', 'skipped')),
          code TEXT,
          message TEXT,
          sop_uid TEXT,
          updated_at TEXT NOT NULL
        );

        CREATE TABLE study_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `);
    },
  },
];
