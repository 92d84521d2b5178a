import { describe, expect, it } from 'vitest';
import { normalizeDate, normalizeTime, parsePersonName } from './normalize';

describe('person names (PN)', () => {
  it('splits the alphabetic group and displays "Family, Given Middle"', () => {
    const name = parsePersonName('Doe^John^Quincy^Dr.^Jr.=ドウ^ジョン');
    expect(name).toMatchObject({ family: 'Doe', given: 'John', middle: 'Quincy', prefix: 'Dr.', suffix: 'Jr.' });
    expect(name.display).toBe('Dr. Doe, John Quincy Jr.');
  });

  it('keeps single components and empties readable', () => {
    expect(parsePersonName('Lymphoma').display).toBe('Lymphoma');
    expect(parsePersonName('^AVeryGood').display).toBe('AVeryGood');
    expect(parsePersonName('  Dog ^ AVeryGood ').display).toBe('Dog, AVeryGood');
    expect(parsePersonName(null).display).toBe('');
  });
});

describe('dates (DA) and times (TM)', () => {
  it('normalises DA to ISO and rejects impossible dates', () => {
    expect(normalizeDate('20200125')).toBe('2020-01-25');
    expect(normalizeDate('1995.09.03')).toBe('1995-09-03');
    expect(normalizeDate('20230230')).toBeNull();
    expect(normalizeDate('')).toBeNull();
    expect(normalizeDate('2020')).toBeNull();
  });

  it('normalises TM to HH:MM:SS', () => {
    expect(normalizeTime('104702.826')).toBe('10:47:02');
    expect(normalizeTime('0727')).toBe('07:27:00');
    expect(normalizeTime('07')).toBe('07:00:00');
    expect(normalizeTime('12:08:50')).toBe('12:08:50');
    expect(normalizeTime('246000')).toBeNull();
    expect(normalizeTime('')).toBeNull();
  });
});
