import type { GeneratedToken } from '../ports';

/**
 * Coalesces streamed tokens into few messages across the process boundary: the first token goes out at once (time
 * to first token), later ones at most every `intervalMs` — a small model makes thousands of tokens per second and a
 * message per token would cost more than the tokens.
 */
export class TokenBatcher {
  #buffer: GeneratedToken[] = [];
  #timer: NodeJS.Timeout | null = null;
  #sentFirst = false;

  constructor(
    private readonly send: (tokens: GeneratedToken[]) => void,
    private readonly intervalMs = 8,
  ) {}

  push(token: GeneratedToken): void {
    this.#buffer.push(token);
    if (!this.#sentFirst) {
      this.#sentFirst = true;
      this.flush();
    } else {
      this.#timer ??= setTimeout(() => this.flush(), this.intervalMs);
    }
  }

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#buffer.length === 0) return;
    const tokens = this.#buffer;
    this.#buffer = [];
    this.send(tokens);
  }
}
