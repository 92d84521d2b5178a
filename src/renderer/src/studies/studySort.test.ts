import { describe, expect, it } from 'vitest';
import type { StudySummary } from '../../../shared/contract';
import { nextSort, sortStudies } from './studySort';

const study = (uid: string, patientName: string, studyDate: string | null, instanceCount: number): StudySummary => ({
  studyInstanceUid: uid,
  patientName,
  patientId: uid,
  studyDate,
  studyTime: null,
  accessionNumber: null,
  description: '',
  modalities: ['CT'],
  seriesCount: 1,
  instanceCount,
  kind: 'dicom',
});

describe('sortStudies', () => {
  const studies = [
    study('a', 'Zeta^Anna', '20200101', 3),
    study('b', 'alpha^Bob', null, 11),
    study('c', 'Mid^Carl', '20231231', 1),
  ];

  it('sorts newest first by date and keeps undated studies last', () => {
    expect(sortStudies(studies, { column: 'date', direction: 'desc' }).map((s) => s.studyInstanceUid)).toEqual(['c', 'a', 'b']);
    expect(sortStudies(studies, { column: 'date', direction: 'asc' }).map((s) => s.studyInstanceUid)).toEqual(['a', 'c', 'b']);
  });

  it('sorts names case-insensitively and counts numerically', () => {
    expect(sortStudies(studies, { column: 'patient', direction: 'asc' }).map((s) => s.studyInstanceUid)).toEqual(['b', 'c', 'a']);
    expect(sortStudies(studies, { column: 'images', direction: 'desc' }).map((s) => s.instanceCount)).toEqual([11, 3, 1]);
  });

  it('toggles direction on the same column and starts dates descending', () => {
    expect(nextSort({ column: 'patient', direction: 'asc' }, 'patient').direction).toBe('desc');
    expect(nextSort({ column: 'patient', direction: 'asc' }, 'date')).toEqual({ column: 'date', direction: 'desc' });
  });
});
