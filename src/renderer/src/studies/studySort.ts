import type { StudySummary } from '../../../shared/contract';
import { formatPersonName } from '../lib/format';

export type StudyColumn = 'patient' | 'patientId' | 'date' | 'modality' | 'description' | 'series' | 'images';
export interface StudySort {
  column: StudyColumn;
  direction: 'asc' | 'desc';
}

/** Dates sort newest first by default, as on a worklist. */
export const defaultStudySort: StudySort = { column: 'date', direction: 'desc' };

function key(study: StudySummary, column: StudyColumn): string | number {
  switch (column) {
    case 'patient':
      return formatPersonName(study.patientName).toLowerCase();
    case 'patientId':
      return study.patientId.toLowerCase();
    case 'date':
      return `${study.studyDate ?? ''}${study.studyTime ?? ''}`;
    case 'modality':
      return study.modalities.join('/');
    case 'description':
      return study.description.toLowerCase();
    case 'series':
      return study.seriesCount;
    case 'images':
      return study.instanceCount;
  }
}

/** A stable sort; studies without a value (e.g. no date) go last in either direction. */
export function sortStudies(studies: readonly StudySummary[], sort: StudySort): StudySummary[] {
  const sign = sort.direction === 'asc' ? 1 : -1;
  return studies
    .map((study, index) => ({ study, index, k: key(study, sort.column) }))
    .sort((a, b) => {
      const emptyA = a.k === '';
      const emptyB = b.k === '';
      if (emptyA !== emptyB) return emptyA ? 1 : -1;
      const order = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k));
      return order !== 0 ? order * sign : a.index - b.index;
    })
    .map((entry) => entry.study);
}

export function nextSort(current: StudySort, column: StudyColumn): StudySort {
  if (current.column !== column) return { column, direction: column === 'date' ? 'desc' : 'asc' };
  return { column, direction: current.direction === 'asc' ? 'desc' : 'asc' };
}
