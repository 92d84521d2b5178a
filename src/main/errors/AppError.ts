/**
 * Base class for every error the main process raises on purpose.
 * The `code` is stable and survives IPC (class names do not); the message says what was expected and what was found.
 */
export class AppError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** Thrown when an operation is aborted through its AbortSignal (a user cancel, a superseded run). */
export class CancelledError extends AppError {
  constructor(what: string) {
    super('CANCELLED', `${what} was cancelled`);
  }
}

/** Thrown when input (a file, a setting, a request) does not have the expected shape. */
export class InvalidInputError extends AppError {
  constructor(what: string, expected: string, found: string) {
    super('INVALID_INPUT', `${what}: expected ${expected}, found ${found}`, { details: { expected, found } });
  }
}

/** Converts anything thrown into the `{code, message}` pair that crosses process boundaries. */
export function toErrorPayload(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  if (error instanceof Error) {
    const code: unknown = (error as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}

/** Rejects with a CancelledError when the signal is already aborted; cheap enough for hot loops. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
