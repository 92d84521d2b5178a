import type { Transferable, Worker } from 'node:worker_threads';
import { startWorker } from './startWorker';

interface Pending<Reply> {
  resolve(reply: Reply): void;
  reject(error: unknown): void;
  /** The error a request fails with when the worker dies before answering it. */
  died(why: string): Error;
}

/**
 * One worker thread that answers requests by id, in the order sent. It starts on first use, is unref'd while no
 * request is pending (a CLI exits normally), and is replaced on the next request after it dies; the requests it held
 * fail with their own `died(why)` error.
 */
export class RequestWorker<Request extends { id: number }, Reply extends { id: number }> {
  readonly #entry: string;
  readonly #pending = new Map<number, Pending<Reply>>();
  readonly #idleWaiters: (() => void)[] = [];
  #worker: Worker | null = null;
  #nextId = 1;

  constructor(entry: string) {
    this.#entry = entry;
  }

  /** Sends `message(id)`; `reply` settles with the worker's answer, or with `died(why)` if the worker dies first. */
  send(
    message: (id: number) => Request,
    died: (why: string) => Error,
    transfer: readonly Transferable[] = [],
  ): { id: number; reply: Promise<Reply> } {
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.#pending.set(id, { resolve, reject, died }));
    const worker = this.#ensureWorker();
    worker.ref();
    worker.postMessage(message(id), transfer);
    return { id, reply };
  }

  /** Stops waiting for request `id`: the worker finishes it anyway, and its answer is dropped. */
  forget(id: number): void {
    this.#pending.delete(id);
    this.#settled();
  }

  /** Resolves once no request is pending (a forgotten one no longer counts, though the worker may still be on it). */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Fails what is pending with `died(why)` and stops the thread. */
  async terminate(why: string): Promise<void> {
    this.#failAll(why);
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker(this.#entry);
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      this.#settled();
      pending.resolve(reply);
    });
    const died = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#failAll(why);
    };
    worker.on('error', (error) => died(`failed (${error.message})`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #failAll(why: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#settled();
    for (const request of pending) request.reject(request.died(why));
  }

  #settled(): void {
    if (this.#pending.size > 0) return;
    this.#worker?.unref();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
