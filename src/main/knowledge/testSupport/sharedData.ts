import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project root (three levels above src/main/knowledge/testSupport). */
export const projectRoot = resolve(import.meta.dirname, '../../../..');

/** ../shared beside the project (real public data for tests), or null on a fresh clone. */
export const sharedDir: string | null = existsSync(resolve(projectRoot, '../shared'))
  ? resolve(projectRoot, '../shared')
  : null;

/** A path under ../shared/data, or null when it is absent (tests skip with `describe.skipIf(!path)`). */
export function sharedData(relative: string): string | null {
  if (!sharedDir) return null;
  const path = join(sharedDir, 'data', relative);
  return existsSync(path) ? path : null;
}
