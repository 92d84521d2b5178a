/**
 * Collects items pushed at any rate and hands them to `flush` at most once per animation frame, so that a stream of
 * 200 tokens/s becomes one state update (one React render, one DOM write) per frame.
 */
export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

const animationFrames: FrameScheduler = {
  request: (callback) => requestAnimationFrame(callback),
  cancel: (handle) => cancelAnimationFrame(handle),
};

export class RafBatcher<T> {
  #queue: T[] = [];
  #handle: number | null = null;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly scheduler: FrameScheduler = animationFrames,
  ) {}

  push(item: T): void {
    this.#queue.push(item);
    this.#handle ??= this.scheduler.request(() => this.flushNow());
  }

  /** Delivers whatever is queued now (e.g. before a run ends, so the final state is never a frame late). */
  flushNow(): void {
    if (this.#handle !== null) {
      this.scheduler.cancel(this.#handle);
      this.#handle = null;
    }
    if (this.#queue.length === 0) return;
    const items = this.#queue;
    this.#queue = [];
    this.flush(items);
  }

  dispose(): void {
    if (this.#handle !== null) this.scheduler.cancel(this.#handle);
    this.#handle = null;
    this.#queue = [];
  }
}
