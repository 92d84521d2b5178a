import type { FramePixels } from '../../../shared/contract';
import { FrameWindowing } from './windowing';

export interface CachedFrame {
  pixels: FramePixels;
  windowing: FrameWindowing;
}

export const frameKey = (sopInstanceUid: string, frame: number): string => `${sopInstanceUid}#${frame}`;

/**
 * Decoded frames kept on the renderer side for instant scrolling, evicted least-recently-used beyond a byte budget.
 * Requests for the same frame are shared.
 */
export class FrameCache {
  readonly #frames = new Map<string, CachedFrame>();
  readonly #pending = new Map<string, Promise<CachedFrame>>();
  #bytes = 0;

  constructor(
    private readonly load: (sopInstanceUid: string, frame: number) => Promise<FramePixels>,
    /** Defaults to 384 MB: about 300 CT slices of 512². */
    private readonly budgetBytes = 384 * 1024 * 1024,
  ) {}

  peek(sopInstanceUid: string, frame: number): CachedFrame | undefined {
    const key = frameKey(sopInstanceUid, frame);
    const hit = this.#frames.get(key);
    if (hit) {
      this.#frames.delete(key);
      this.#frames.set(key, hit);
    }
    return hit;
  }

  /** A cached frame without touching the LRU order (safe to call while rendering). */
  lookup(sopInstanceUid: string, frame: number): CachedFrame | undefined {
    return this.#frames.get(frameKey(sopInstanceUid, frame));
  }

  get(sopInstanceUid: string, frame: number): Promise<CachedFrame> {
    const hit = this.peek(sopInstanceUid, frame);
    if (hit) return Promise.resolve(hit);
    const key = frameKey(sopInstanceUid, frame);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.load(sopInstanceUid, frame).then(
        (pixels) => {
          this.#pending.delete(key);
          const entry = { pixels, windowing: new FrameWindowing(pixels) };
          this.#frames.set(key, entry);
          this.#bytes += this.sizeOf(entry);
          this.evict();
          return entry;
        },
        (error: unknown) => {
          this.#pending.delete(key);
          throw error;
        },
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  isPending(sopInstanceUid: string, frame: number): boolean {
    return this.#pending.has(frameKey(sopInstanceUid, frame));
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  clear(): void {
    this.#frames.clear();
    this.#bytes = 0;
  }

  private sizeOf(entry: CachedFrame): number {
    // The pixels plus the 16-bit LUT indices FrameWindowing keeps for grayscale frames.
    return entry.pixels.pixels.byteLength + (entry.pixels.samplesPerPixel === 1 ? entry.windowing.pixelCount * 2 : 0);
  }

  private evict(): void {
    for (const [key, entry] of this.#frames) {
      if (this.#bytes <= this.budgetBytes || this.#frames.size <= 1) break;
      this.#frames.delete(key);
      this.#bytes -= this.sizeOf(entry);
    }
  }
}
