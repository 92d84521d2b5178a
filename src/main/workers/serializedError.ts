import { AppError } from '../errors/AppError';

/** An error as it crosses a thread or process boundary: the stable code, the message, the class name. */
export interface SerializedError {
  code: string;
  message: string;
  name: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) return { code: error.code, message: error.message, name: error.name };
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message, name: error.name };
  }
  return { code: 'INTERNAL', message: String(error), name: 'Error' };
}
