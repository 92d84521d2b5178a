/**
 * Errors from `window.api` arrive as ApiError objects with a stable `code`. The UI never matches on messages:
 * it maps codes to what the user can do about them.
 */
export interface ErrorInfo {
  code: string;
  message: string;
  /** What the user can do next, in one sentence; null when the message says it all. */
  hint: string | null;
}

const hints: Record<string, string> = {
  NOT_AVAILABLE: 'This part of the station is not built or not configured in this installation yet.',
  INVALID_INPUT: 'Check the highlighted value and try again; nothing was changed.',
  NOT_FOUND: 'It may have been removed; refresh the list.',
  CANCELLED: 'The operation was stopped; start it again when ready.',
  BRIDGE_CLOSED: 'The connection to the station closed; reload the window.',
  MODEL_NOT_CONFIGURED: 'Choose a model in Settings → Models, then load it.',
  MODEL_NOT_LOADED: 'Load the model in Settings → Models (or press Analyze again after loading).',
  NO_VISION: 'The configured model has no vision projector: choose an mmproj file in Settings → Models.',
  KNOWLEDGE_EMPTY: 'Add sources in Settings → Knowledge, or search works once the bundled base is built.',
  ENGINE_CRASHED: 'The model process stopped and restarts by itself; check the model files in Settings → Models.',
  BUSY: 'Another operation is running; wait for it or stop it first.',
  REPLAY_MODEL_MISMATCH:
    'A re-run only shows reproducibility on the model the run used: load that model (name and hash in the record) in Settings → Models, then re-run.',
  REPLAY_IMAGE_MISSING: 'The image this run saw is no longer in the audit store, so it cannot be re-run.',
  RUN_NOT_FOUND: 'The record may have been removed; refresh the list.',
};

export function errorInfo(error: unknown): ErrorInfo {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'INTERNAL';
    const message = typeof e.message === 'string' ? e.message : String(error);
    return { code, message, hint: hints[code] ?? null };
  }
  return { code: 'INTERNAL', message: String(error), hint: null };
}

export function isNotAvailable(error: unknown): boolean {
  return errorInfo(error).code === 'NOT_AVAILABLE';
}
