/** Display helpers shared by the screens; pure so that they are unit-tested in Node. */

/** DICOM DA (YYYYMMDD) or ISO date → YYYY-MM-DD; anything else is returned as given. */
export function formatStudyDate(value: string | null | undefined): string {
  if (!value) return '—';
  const da = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (da) return `${da[1]}-${da[2]}-${da[3]}`;
  const iso = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  return iso ? iso[1]! : value;
}

/** DICOM PN ("Family^Given^Middle^Prefix^Suffix") → "FAMILY, Given Middle"; already-normalised names pass through. */
export function formatPersonName(value: string | null | undefined): string {
  if (!value) return '(no name)';
  if (!value.includes('^')) return value;
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = value.split('^');
  const rest = [prefix, given, middle, suffix].filter(Boolean).join(' ');
  return rest ? `${family.toUpperCase()}, ${rest}` : family.toUpperCase();
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest.toString().padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${(m % 60).toString().padStart(2, '0')} min`;
}

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

export function formatProbability(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(3);
}

/** An ISO timestamp in the workstation's local time, to the minute. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number): string => n.toString().padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function shortHash(hash: string | null | undefined, length = 12): string {
  return hash ? hash.slice(0, length) : '—';
}

/** The last path component, for file paths from either platform. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** Splits a path field that may hold several paths (one per line, or separated by ';'). */
export function splitPaths(text: string): string[] {
  return text
    .split(/[\n;]/)
    .map((p) => p.trim())
    .filter(Boolean);
}
