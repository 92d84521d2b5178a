/** The real DICOM files the dicom tests read: bundled samples, test fixtures and, when present, ../shared's tree. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '../../../..');
export const sharedDicomRoot = resolve(projectRoot, '../shared/data/dicom');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)],
  );
}

/** Every Part 10 file ("DICM" at byte 128) of the samples, the fixtures and the shared tree (when it is there). */
export function realDicomFiles(): string[] {
  return [
    ...walk(join(projectRoot, 'resources/sample-studies')),
    ...walk(join(projectRoot, 'tests/fixtures/dicom')),
    ...(existsSync(sharedDicomRoot) ? walk(sharedDicomRoot) : []),
  ].filter((f) => readFileSync(f).subarray(128, 132).toString('latin1') === 'DICM');
}

/** Modules (or any value) as a string, typed arrays (palette data) by content. */
export function comparable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v));
}
