export interface RepetitionOptions {
  /** Shortest and longest repeating unit looked for, in characters. Defaults to 3 and 80. */
  minPeriod?: number;
  maxPeriod?: number;
  /** How many back-to-back copies of the unit make a loop. Defaults to 6. */
  copies?: number;
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
  readonly #every: number;
  #tail = '';
  #tokens = 0;

  constructor(options: RepetitionOptions = {}) {
    this.#min = options.minPeriod ?? 3;
    this.#max = options.maxPeriod ?? 80;
    this.#copies = options.copies ?? 6;
    this.#every = options.every ?? 8;
  }

  /** Adds a token's text; true once the recent text is one unit repeated `copies` times. */
  push(text: string): boolean {
    const keep = this.#max * this.#copies;
    this.#tail = (this.#tail + text).slice(-keep);
    if (++this.#tokens % this.#every !== 0) return false;
    return this.looping();
  }

  looping(): boolean {
    const t = this.#tail;
    for (let p = this.#min; p <= this.#max && p * this.#copies <= t.length; p++) {
      const unit = t.slice(t.length - p);
      if (!/\S/.test(unit)) continue;
      let ok = true;
      for (let c = 2; c <= this.#copies && ok; c++) {
        ok = t.slice(t.length - c * p, t.length - (c - 1) * p) === unit;
      }
      if (ok) return true;
    }
    return false;
  }
}
