/** A table printed by `npm run bench`: ratios are measured side by side in the same run. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export interface BenchContext {
  /** Scratch directory for generated data (git-ignored). */
  workDir: string;
  /** ../shared beside the project, or null when absent (suites that need it skip with a note). */
  sharedDir: string | null;
  /** `--quick` trims sizes for a smoke run. */
  quick: boolean;
  log: (line: string) => void;
}

export type BenchSuite = (context: BenchContext) => Promise<BenchTable[]>;
