import { describe, expect, it } from 'vitest';
import { baseName, formatBytes, formatDuration, formatPersonName, formatStudyDate, splitPaths } from './format';

describe('format helpers', () => {
  it('normalises DICOM dates and person names for display', () => {
    expect(formatStudyDate('20240131')).toBe('2024-01-31');
    expect(formatStudyDate('2024-01-31T10:00:00Z')).toBe('2024-01-31');
    expect(formatStudyDate(null)).toBe('—');
    expect(formatPersonName('Doe^Jane^Q')).toBe('DOE, Jane Q');
    expect(formatPersonName('Anonymized')).toBe('Anonymized');
    expect(formatPersonName('')).toBe('(no name)');
  });

  it('formats sizes and durations the way a status line needs them', () => {
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(75_000)).toBe('1 min 15 s');
  });

  it('splits multi-path fields and takes base names of either platform', () => {
    expect(splitPaths(' /a/b \n\nC:\\x\\y.dcm; /c ')).toEqual(['/a/b', 'C:\\x\\y.dcm', '/c']);
    expect(baseName('C:\\x\\y.dcm')).toBe('y.dcm');
    expect(baseName('/data/study/')).toBe('study');
  });
});
