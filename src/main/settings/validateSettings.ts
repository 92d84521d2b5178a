import type { Settings, SettingsPatch } from '../../shared/contract';
import { InvalidInputError } from '../errors/AppError';

type Check = (value: unknown) => string | null;

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? `"${value}"` : String(value);
const integer =
  (min: number, max: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `an integer from ${min} to ${max}`;
const number =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `a number from ${min} to ${max}`;
const oneOf =
  (...options: readonly unknown[]): Check =>
  (v) =>
    options.includes(v) ? null : `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null ? null : check(v);
const either =
  (a: Check, b: Check): Check =>
  (v) =>
    a(v) === null || b(v) === null ? null : `${a(v)} or ${b(v)}`;
const boolean: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const path: Check = (v) => (typeof v === 'string' && v.trim().length > 0 ? null : 'a non-empty file path');

const schema: { [S in keyof Settings]: { [K in keyof Settings[S]]: Check } } = {
  models: { reasoner: nullable(path), mmproj: nullable(path), embedding: nullable(path), reranker: nullable(path) },
  engine: {
    threads: nullable(integer(1, 512)),
    gpuLayers: either(oneOf('auto'), integer(0, 1000)),
    mmprojOffload: boolean,
    contextSize: integer(512, 1_048_576),
    logLevel: oneOf('error', 'warn', 'info', 'debug'),
  },
  retrieval: { k: integer(1, 50), maxRounds: integer(0, 10), mode: oneOf('lexical', 'vector', 'hybrid') },
  reasoning: {
    mode: oneOf('direct', 'rwr', 'rwr+cdir'),
    cdirThreshold: number(0, 1),
    confidenceSource: oneOf('first-token', 'option-mass'),
    maxTokens: integer(1, 32_768),
    temperature: number(0, 5),
    seed: integer(0, 2 ** 31 - 1),
    grammarConstrained: boolean,
    grammarThinkChars: integer(8, 100_000),
    grammarQueryChars: integer(8, 1999),
    grammarLoopOpensThought: boolean,
  },
};

/** Merges a patch into settings, refusing unknown keys and out-of-range values with a message naming both. */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new InvalidInputError('settings patch', 'an object', describe(patch));
  }
  const next = structuredClone(current) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(patch)) {
    const sectionSchema = (schema as Record<string, Record<string, Check> | undefined>)[section];
    if (!sectionSchema) {
      throw new InvalidInputError('settings section', `one of ${Object.keys(schema).join(', ')}`, `"${section}"`);
    }
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new InvalidInputError(`settings.${section}`, 'an object', describe(values));
    }
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const check = sectionSchema[key];
      if (!check) {
        throw new InvalidInputError(`settings.${section} key`, `one of ${Object.keys(sectionSchema).join(', ')}`, `"${key}"`);
      }
      const problem = check(value);
      if (problem) throw new InvalidInputError(`settings.${section}.${key}`, problem, describe(value));
      next[section]![key] = value;
    }
  }
  return next as unknown as Settings;
}

/** Fills anything missing from stored settings with defaults and drops what no longer exists (after an upgrade). */
export function reconcileSettings(stored: unknown, defaults: Settings): Settings {
  const result = structuredClone(defaults) as unknown as Record<string, Record<string, unknown>>;
  if (stored && typeof stored === 'object') {
    for (const [section, sectionSchema] of Object.entries(schema) as [string, Record<string, Check>][]) {
      const values = (stored as Record<string, unknown>)[section];
      if (!values || typeof values !== 'object') continue;
      for (const [key, check] of Object.entries(sectionSchema)) {
        const value = (values as Record<string, unknown>)[key];
        if (value !== undefined && check(value) === null) result[section]![key] = value;
      }
    }
  }
  return result as unknown as Settings;
}
