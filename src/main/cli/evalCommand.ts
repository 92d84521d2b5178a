import type { CliCommand } from './CliContext';

export const evalCommand: CliCommand = async (_argv, { err }) => {
  err('"eval" is not built yet');
  return 2;
};
