/** A least-recently-used cache bounded by a total cost (bytes, or 1 per entry). */
export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; cost: number }>();
  #total = 0;

  constructor(
    private readonly capacity: number,
    private readonly costOf: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const cost = this.costOf(value);
    if (cost > this.capacity) return;
    this.#entries.set(key, { value, cost });
    this.#total += cost;
    for (const [oldest, entry] of this.#entries) {
      if (this.#total <= this.capacity) break;
      this.#entries.delete(oldest);
      this.#total -= entry.cost;
    }
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#total -= entry.cost;
  }

  /** Removes every entry whose key matches. */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (predicate(key)) this.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
