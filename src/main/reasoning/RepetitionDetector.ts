export interface RepetitionOptions {
  /** Shortest and longest repeating unit looked for, in characters. Defaults to 3 and 80. */
  minPeriod?: number;
  maxPeriod?: number;
  /** Back-to-back copies of the unit that make a loop, at least. Defaults to 4. */
  copies?: number;
  /** …and the repeated run must span this many characters (short repeats such as "hahaha" are not loops). Defaults to 160. */
  minSpan?: number;
  /** Check every this many tokens (the check is O(maxPeriod × copies)). Defaults to 8. */
  every?: number;
}

/**
 * Spots a model stuck in a loop ("the the the…", a sentence over and over) in the text it is generating, so the
 * loop can stop the generation early instead of spending the whole token budget.
 */
export class RepetitionDetector {
  readonly #min: number;
  readonly #max: number;
  readonly #copies: number;
  readonly #minSpan: number;
  readonly #every: number;
  #tail = '';
  #tokens = 0;

  constructor(options: RepetitionOptions = {}) {
    this.#min = options.minPeriod ?? 3;
    this.#max = options.maxPeriod ?? 80;
    this.#copies = options.copies ?? 4;
    this.#minSpan = options.minSpan ?? 160;
    this.#every = options.every ?? 8;
  }

  /** Adds a token's text; true once the recent text is one unit repeated over `minSpan` characters. */
  push(text: string): boolean {
    const keep = Math.max(this.#max * this.#copies, this.#minSpan + this.#max);
    this.#tail = (this.#tail + text).slice(-keep);
    if (++this.#tokens % this.#every !== 0) return false;
    return this.looping();
  }

  looping(): boolean {
    const t = this.#tail;
    for (let p = this.#min; p <= this.#max; p++) {
      const copies = Math.max(this.#copies, Math.ceil(this.#minSpan / p));
      if (p * copies > t.length) break;
      const unit = t.slice(t.length - p);
      if (!/\S/.test(unit)) continue;
      let ok = true;
      for (let c = 2; c <= copies && ok; c++) {
        ok = t.slice(t.length - c * p, t.length - (c - 1) * p) === unit;
      }
      if (ok) return true;
    }
    return false;
  }
}
