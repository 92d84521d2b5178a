import { AppError } from '../errors/AppError';

/**
 * The engine's typed failures. Each code is stable (it crosses IPC and lands in the audit); each message says what
 * was expected and what was found, and names the file involved.
 */
export type EngineErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_NOT_GGUF'
  | 'MODEL_TRUNCATED'
  | 'MODEL_INVALID'
  | 'MMPROJ_MISMATCH'
  | 'MODEL_NO_VISION'
  | 'MODEL_LOAD_FAILED'
  | 'ENGINE_OUT_OF_MEMORY'
  | 'CONTEXT_OVERFLOW'
  | 'GENERATION_FAILED'
  | 'ENGINE_CRASHED'
  | 'ENGINE_DISPOSED'
  | 'ENGINE_WEDGED';

export class EngineError extends AppError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

export const isEngineError = (error: unknown, code?: EngineErrorCode): error is EngineError =>
  error instanceof EngineError && (code === undefined || error.code === code);

/** Maps a native library's exception to a typed error (memory exhaustion is recognised by llama.cpp's wording). */
export function engineErrorFromNative(error: unknown, fallback: EngineErrorCode, what: string): EngineError {
  if (error instanceof EngineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/out of memory|failed to allocate|unable to allocate|cannot allocate|ENOMEM|bad_alloc/i.test(message)) {
    return new EngineError('ENGINE_OUT_OF_MEMORY', `${what}: expected enough memory, found the allocation refused (${message})`, { cause: error });
  }
  return new EngineError(fallback, `${what}: ${message}`, { cause: error });
}

/** Rebuilds an engine error from the `{code, message}` that crossed the process boundary. */
export function engineErrorFromPayload(payload: { code: string; message: string; details?: Record<string, unknown> }): AppError {
  const known: readonly string[] = [
    'MODEL_NOT_FOUND',
    'MODEL_NOT_GGUF',
    'MODEL_TRUNCATED',
    'MODEL_INVALID',
    'MMPROJ_MISMATCH',
    'MODEL_NO_VISION',
    'MODEL_LOAD_FAILED',
    'ENGINE_OUT_OF_MEMORY',
    'CONTEXT_OVERFLOW',
    'GENERATION_FAILED',
    'ENGINE_CRASHED',
    'ENGINE_DISPOSED',
    'ENGINE_WEDGED',
  ];
  if (known.includes(payload.code)) {
    return new EngineError(payload.code as EngineErrorCode, payload.message, payload.details ? { details: payload.details } : undefined);
  }
  return new AppError(payload.code, payload.message, payload.details ? { details: payload.details } : undefined);
}
