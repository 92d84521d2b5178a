import { InvalidInputError } from '../../errors/AppError';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; the same seed gives the same sample on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SelectOptions {
  /** A seeded random sample of `size` items; the sample keeps the dataset's order. */
  sample?: { size: number; seed: number };
  /** Keep the first `limit` items (after sampling). */
  limit?: number;
}

/** Applies sample then limit; without either, every item in dataset order. */
export function selectItems<T>(items: readonly T[], options: SelectOptions): T[] {
  let selected = [...items];
  if (options.sample) {
    const { size, seed } = options.sample;
    if (!Number.isInteger(size) || size < 1) throw new InvalidInputError('sample.size', 'an integer ≥ 1', String(size));
    if (!Number.isInteger(seed)) throw new InvalidInputError('sample.seed', 'an integer', String(seed));
    if (size < selected.length) {
      const random = seededRandom(seed);
      const indices = selected.map((_, i) => i);
      for (let i = 0; i < size; i++) {
        const j = i + Math.floor(random() * (indices.length - i));
        [indices[i], indices[j]] = [indices[j]!, indices[i]!];
      }
      const chosen = indices.slice(0, size).sort((a, b) => a - b);
      selected = chosen.map((i) => selected[i]!);
    }
  }
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new InvalidInputError('limit', 'an integer ≥ 1', String(options.limit));
    }
    selected = selected.slice(0, options.limit);
  }
  return selected;
}
