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
    'ENGINE_CRASHED',
    'ENGINE_DISPOSED',
    'ENGINE_WEDGED',
  ];
  if (known.includes(payload.code)) {
    return new EngineError(payload.code as EngineErrorCode, payload.message, payload.details ? { details: payload.details } : undefined);
  }
  return new AppError(payload.code, payload.message, payload.details ? { details: payload.details } : undefined);
}
