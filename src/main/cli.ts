/**
 * Headless entry over the same services as the app: `npm run kb -- …`, `npm run ask -- …`, `npm run eval -- …`.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { composeApp, type App } from './compose';
import type { CliCommand, CliContext } from './cli/CliContext';

const commands: Record<string, () => Promise<CliCommand>> = {
  kb: async () => (await import('./cli/kbCommand')).kbCommand,
  ask: async () => (await import('./cli/askCommand')).askCommand,
  eval: async () => (await import('./cli/evalCommand')).evalCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: cli <${Object.keys(commands).join('|')}> …\n`);
    return 2;
  }
  let app: App | undefined;
  const context: CliContext = {
    async app() {
      if (!app) {
        const dataDir = process.env['MEDRWR_DATA_DIR'] ?? join(homedir(), '.medrwr-reading-station');
        mkdirSync(dataDir, { recursive: true });
        app = await composeApp({
          dataDir,
          resourcesDir: resolve(import.meta.dirname, '../../resources'),
          version: process.env['npm_package_version'] ?? '0.0.0',
          dialogs: { open: async () => [] },
        });
      }
      return app;
    },
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  try {
    return await (await load())(rest, context);
  } finally {
    await app?.dispose();
  }
}

process.exitCode = await main(process.argv.slice(2));
