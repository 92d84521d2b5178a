/** Messages between BackgroundWalCheckpointer and its worker thread. */
import type { SerializedError } from '../workers/serializedError';

export interface CheckpointRequest {
  id: number;
  /** The database file (absolute). */
  path: string;
}

export type CheckpointReply =
  | { id: number; ok: true; walPages: number; checkpointedPages: number }
  | { id: number; ok: false; error: SerializedError };
