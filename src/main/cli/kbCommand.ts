import type { CliCommand } from './CliContext';

export const kbCommand: CliCommand = async (_argv, { err }) => {
  err('"kb" is not built yet');
  return 2;
};
