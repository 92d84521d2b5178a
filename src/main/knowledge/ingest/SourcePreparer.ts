import type { ChunkOptions } from '../text/chunkDocument';
import { prepareSource, type PreparedSource } from './prepareSource';

/**
 * Where ingestion parses and chunks files: on the calling thread (inline), or on a worker thread so that parsing the
 * next file overlaps with writing this one (WorkerSourcePreparer, what the app uses). Both give the same result.
 */
export interface SourcePreparer {
  /** `raw` may be transferred to another thread: the caller must not use it afterwards. */
  prepare(raw: Uint8Array, path: string, chunking: ChunkOptions, signal?: AbortSignal): Promise<PreparedSource>;
  close(): Promise<void>;
}

export const inlineSourcePreparer: SourcePreparer = {
  prepare: prepareSource,
  close: async () => undefined,
};
