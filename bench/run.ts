/**
 * `npm run bench [-- <suite…>] [--quick]`: runs the benchmark suites and prints their tables.
 * Timing is never asserted in tests; it is measured here, with ratios taken in the same run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchSuite, BenchTable } from './BenchContext';

const suites: Record<string, () => Promise<BenchSuite>> = {
  engine: async () => (await import('./suites/engine')).engineSuite,
  knowledge: async () => (await import('./suites/knowledge')).knowledgeSuite,
  dicom: async () => (await import('./suites/dicom')).dicomSuite,
  reasoning: async () => (await import('./suites/reasoning')).reasoningSuite,
  ui: async () => (await import('./suites/ui')).uiSuite,
  eval: async () => (await import('./suites/eval')).evalSuite,
};

function formatTable(table: BenchTable): string {
  const cells = [table.columns, ...table.rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]): string => `| ${r.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `### ${table.title}`,
    line(table.columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.slice(1).map(line),
    ...(table.notes ?? []).map((n) => `- ${n}`),
  ].join('\n');
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(1) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3);
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const selected = args.filter((a) => !a.startsWith('--'));
const names = selected.length > 0 ? selected : Object.keys(suites);
const root = resolve(import.meta.dirname, '..');
const workDir = join(root, '.bench');
mkdirSync(workDir, { recursive: true });
const sharedDir = existsSync(resolve(root, '../shared')) ? resolve(root, '../shared') : null;

for (const name of names) {
  const load = suites[name];
  if (!load) {
    process.stderr.write(`unknown suite "${name}"; expected one of ${Object.keys(suites).join(', ')}\n`);
    process.exitCode = 2;
    continue;
  }
  process.stdout.write(`\n## ${name}\n`);
  const started = performance.now();
  const tables = await (await load())({ workDir, sharedDir, quick, log: (l) => process.stderr.write(`[${name}] ${l}\n`) });
  for (const table of tables) process.stdout.write(`\n${formatTable(table)}\n`);
  process.stdout.write(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
