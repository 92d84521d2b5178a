import type { CliCommand } from './CliContext';

export const askCommand: CliCommand = async (_argv, { err }) => {
  err('"ask" is not built yet');
  return 2;
};
