/** Messages between WorkerSourcePreparer and its worker thread. */
import type { SerializedError } from '../../workers/serializedError';
import type { ChunkOptions } from '../text/chunkDocument';
import type { PackedSource } from './packedSource';

export interface PrepareRequest {
  id: number;
  path: string;
  raw: Uint8Array;
  chunking: ChunkOptions;
}

export type PrepareReply =
  { id: number; ok: true; source: PackedSource } | { id: number; ok: false; error: SerializedError };
