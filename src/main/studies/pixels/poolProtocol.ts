/** Messages between the pixel pool and its workers, and how results and errors cross the thread boundary. */
import { AppError } from '../../errors/AppError';
import { DicomError, isDicomErrorCode } from '../../dicom/dicomErrors';
import type { SerializedError } from '../../workers/serializedError';
import type { TaskArgs, TaskName } from './pixelTasks';

export type ToWorker =
  | { [T in TaskName]: { type: 'task'; id: number; task: T; args: TaskArgs[T] } }[TaskName]
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedError };

/** The error again on this side: a DicomError for the DICOM codes (callers test for it), else an AppError. */
export function deserializeError(error: SerializedError): AppError {
  return isDicomErrorCode(error.code)
    ? new DicomError(error.code, error.message)
    : new AppError(error.code, error.message);
}

type Views = Record<string, unknown>;

/**
 * The result with every typed array owning its whole buffer (a view into a larger one — a file's bytes kept in the
 * worker's parse cache, Node's shared Buffer pool — is copied out), and those buffers to transfer.
 */
export function ownedBuffers(result: unknown): { value: unknown; transfer: ArrayBuffer[] } {
  // Plain data (a batch of header outcomes) has no pixel arrays to own.
  if (!result || typeof result !== 'object' || Array.isArray(result)) return { value: result, transfer: [] };
  const transfer = new Set<ArrayBuffer>();
  const own = <V extends ArrayBufferView>(view: V): V => {
    const whole =
      view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
    const owned = whole ? view : ((view as unknown as { slice(): V }).slice() as V);
    if (owned.byteLength > 0 && !transfer.has(owned.buffer as ArrayBuffer)) transfer.add(owned.buffer as ArrayBuffer);
    return owned;
  };
  const value: Views = { ...(result as Views) };
  for (const key of ['stored', 'rgb', 'png'] as const) {
    const view = value[key];
    if (ArrayBuffer.isView(view)) value[key] = own(view);
  }
  const modality = value['modality'] as { values?: unknown } | null | undefined;
  if (modality && ArrayBuffer.isView(modality.values))
    value['modality'] = { ...modality, values: own(modality.values) };
  return { value, transfer: [...transfer] };
}
