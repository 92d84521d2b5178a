import { createHash } from 'node:crypto';
import type { Embedder, ModelIdentity } from '../../engine/ports';
import { CancelledError } from '../../errors/AppError';

/**
 * A deterministic Embedder double for tests: bag of lower-cased words hashed into `dims` signed buckets (feature
 * hashing), so texts sharing words are close. Counts its calls; `name` lets a test simulate a model change.
 */
export class HashingEmbedder implements Embedder {
  readonly model: ModelIdentity;
  calls = 0;
  texts = 0;

  constructor(
    readonly dimensions = 256,
    name = 'hashing-embedder',
  ) {
    this.model = {
      path: `/models/${name}.gguf`,
      name,
      sha256: createHash('sha256').update(name).digest('hex'),
      sizeBytes: 0,
    };
  }

  async embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    if (options?.signal?.aborted) throw new CancelledError('embedding');
    this.calls++;
    this.texts += texts.length;
    return texts.map((text) => {
      const v = new Float32Array(this.dimensions);
      for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
        const h = createHash('md5').update(word).digest();
        v[h.readUInt32LE(0) % this.dimensions]! += h[4]! & 1 ? 1 : -1;
      }
      return v;
    });
  }

  async dispose(): Promise<void> {}
}
