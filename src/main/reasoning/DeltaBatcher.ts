import type { SegmentKind } from '../../shared/contract';

export interface DeltaBatcherOptions {
  /** A delta is sent once it holds this many characters. Defaults to 64. */
  maxChars?: number;
  /** …or once its first character has waited this long. Defaults to 40 ms. */
  maxDelayMs?: number;
}

/**
 * Groups token text into small deltas per segment, so the renderer receives a few events per second of short text
 * (never the transcript) and a segment change is always a delta boundary.
 */
export class DeltaBatcher {
  readonly #maxChars: number;
  readonly #maxDelayMs: number;
  #segment: SegmentKind | null = null;
  #text = '';
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: (segment: SegmentKind, text: string) => void,
    options: DeltaBatcherOptions = {},
  ) {
    this.#maxChars = options.maxChars ?? 64;
    this.#maxDelayMs = options.maxDelayMs ?? 40;
  }

  add(segment: SegmentKind, text: string): void {
    if (!text) return;
    if (this.#segment !== null && this.#segment !== segment) this.flush();
    this.#segment = segment;
    this.#text += text;
    while (this.#text.length >= this.#maxChars) {
      this.send(segment, this.#text.slice(0, this.#maxChars));
      this.#text = this.#text.slice(this.#maxChars);
    }
    if (this.#text && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.flush();
      }, this.#maxDelayMs);
    }
  }

  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#text && this.#segment !== null) this.send(this.#segment, this.#text);
    this.#text = '';
  }
}
