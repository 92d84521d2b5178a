import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel } from '../../shared/contract';

const MAX_BYTES = 10 * 1024 ** 2;

/**
 * The engine's log file: native llama.cpp output and engine events, one line each, prefixed with time and level.
 * Kept out of the console (the app's terminal stays quiet); rotated once past 10 MB at start.
 */
export class EngineLog {
  #stream: WriteStream | null = null;

  constructor(readonly path: string) {}

  #open(): WriteStream {
    if (this.#stream) return this.#stream;
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.path) && statSync(this.path).size > MAX_BYTES) renameSync(this.path, `${this.path}.1`);
    this.#stream = createWriteStream(this.path, { flags: 'a' });
    return this.#stream;
  }

  write(level: LogLevel, text: string): void {
    this.#open().write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}\n`);
  }

  close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = null;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }
}
