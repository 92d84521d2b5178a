import type { DecodedImage } from './decodeImage';

/**
 * Turns an image into a vector for similar-case search (cosine similarity). The built-in encoder is model-free;
 * a learned encoder (e.g. a vision model's pooled embedding) can implement the same port. The `id` tags stored
 * vectors, so vectors of two encoders are never compared.
 */
export interface ImageEncoder {
  /** Stable identity, e.g. "intensity-gradient-descriptor/1". Change it whenever the vectors change. */
  readonly id: string;
  readonly dimensions: number;
  encode(image: DecodedImage, options?: { signal?: AbortSignal }): Float32Array | Promise<Float32Array>;
}
