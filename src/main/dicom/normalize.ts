import type { PersonName } from './dicomModules';

/**
 * Splits a DICOM person name (PS3.5 6.2, "Family^Given^Middle^Prefix^Suffix", component groups separated by "=")
 * using its alphabetic group. `display` reads "Family, Given Middle" (prefix and suffix around it when present).
 */
export function parsePersonName(value: string | null | undefined): PersonName {
  const raw = (value ?? '').trim();
  const alphabetic = raw.split('=')[0] ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = alphabetic
    .split('^')
    .map((part) => part.trim().replace(/\s+/g, ' '));
  const givenNames = [given, middle].filter(Boolean).join(' ');
  let display = family && givenNames ? `${family}, ${givenNames}` : family || givenNames;
  if (prefix) display = `${prefix} ${display}`.trim();
  if (suffix) display = `${display} ${suffix}`.trim();
  return { raw, family, given, middle, prefix, suffix, display };
}

/**
 * DA (YYYYMMDD; also the pre-1993 YYYY.MM.DD) → ISO YYYY-MM-DD, or null when empty or not a real calendar date.
 */
export function normalizeDate(value: string | null | undefined): string | null {
  const text = (value ?? '').trim().replace(/[.\-/]/g, '');
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  const [, y, m, d] = match as unknown as [string, string, string, string];
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) {
    return null;
  }
  return `${y}-${m}-${d}`;
}

/**
 * TM (HH, HHMM, HHMMSS, HHMMSS.FFFFFF; also the older HH:MM:SS) → HH:MM:SS (fractions dropped), or null when empty
 * or out of range.
 */
export function normalizeTime(value: string | null | undefined): string | null {
  const text = (value ?? '').trim().replace(/:/g, '');
  const match = /^(\d{2})(\d{2})?(\d{2})?(?:\.\d{1,6})?$/.exec(text);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2] ?? '0');
  const seconds = Number(match[3] ?? '0');
  if (hours > 23 || minutes > 59 || seconds > 60) return null;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(hours)}:${pad(minutes)}:${pad(Math.min(seconds, 59))}`;
}
