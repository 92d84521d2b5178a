import type { App } from '../compose';

export interface CliContext {
  /** Lazily composes the app services (data dir from MEDRWR_DATA_DIR or the default). */
  app(): Promise<App>;
  out: (line: string) => void;
  err: (line: string) => void;
}

export type CliCommand = (argv: string[], context: CliContext) => Promise<number>;
