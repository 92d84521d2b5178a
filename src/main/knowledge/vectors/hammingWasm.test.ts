import { describe, expect, it } from 'vitest';
import { codeBytes, HammingIndex, signBits } from './hammingWasm';

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v; v &= v - 1) c++;
  return c;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('WebAssembly Hamming index', () => {
  it.each([64, 100, 384, 1024])('matches a JS popcount for %i-bit codes', (dims) => {
    const random = seeded(dims);
    const index = new HammingIndex(dims);
    const bytes = codeBytes(dims);
    expect(bytes % 8).toBe(0);
    const n = 3000;
    const codes = new Uint8Array(n * bytes);
    for (let i = 0; i < n; i++) {
      const vector = Float32Array.from({ length: dims }, () => random() - 0.5);
      codes.set(signBits(vector), i * bytes);
    }
    // Appended in two parts to exercise memory growth.
    index.append(codes.subarray(0, 1000 * bytes));
    index.append(codes.subarray(1000 * bytes));
    expect(index.size).toBe(n);
    const query = codes.slice(7 * bytes, 8 * bytes);
    const distances = index.distances(query);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let b = 0; b < bytes; b++) d += popcount(codes[i * bytes + b]! ^ query[b]!);
      expect(distances[i]).toBe(d);
    }
    expect(distances[7]).toBe(0);
    const nearest = [...index.nearest(query, 25)];
    expect(nearest).toHaveLength(25);
    const cut = Math.max(...nearest.map((i) => distances[i]!));
    expect([...distances].filter((d) => d < cut).length).toBeLessThanOrEqual(25);
    expect(nearest.every((i) => distances[i]! <= cut)).toBe(true);
    expect(nearest).toContain(7);
  });

  it('two passes (256-bit prefixes, then full codes of the survivors) find the same close codes', () => {
    const dims = 1024;
    const random = seeded(3);
    const index = new HammingIndex(dims);
    const bytes = codeBytes(dims);
    const n = 5000;
    const centre = Float32Array.from({ length: dims }, () => random() - 0.5);
    const codes = new Uint8Array(n * bytes);
    for (let i = 0; i < n; i++) {
      // Half the codes are noisy copies of one centre, so there is a real neighbourhood to find.
      const noise = i % 2 === 0 ? 0.6 : 4;
      codes.set(signBits(centre.map((c) => c + noise * (random() - 0.5))), i * bytes);
    }
    for (let part = 0; part < 5; part++) index.append(codes.subarray(part * 1000 * bytes, (part + 1) * 1000 * bytes));
    const query = signBits(centre);
    const single = new Set(index.nearest(query, 50, { firstStage: 0 }));
    const twoPass = [...index.nearest(query, 50, { firstStage: 800 })];
    expect(new Set(twoPass).size).toBe(50);
    expect(twoPass.filter((i) => single.has(i)).length).toBeGreaterThanOrEqual(35);
    expect(twoPass.every((i) => i % 2 === 0)).toBe(true);
  });

  it('sets a bit per positive component', () => {
    expect([...signBits(new Float32Array([1, -1, 2, 0, 3, -0.5, 0.1, 0, 5]))]).toEqual([
      0b01010101, 1, 0, 0, 0, 0, 0, 0,
    ]);
  });
});
