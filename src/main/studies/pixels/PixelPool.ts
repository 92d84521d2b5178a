import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { AppError, CancelledError } from '../../errors/AppError';
import { findWorkerEntry, startWorker } from '../../workers/startWorker';
import type { PixelExecutor, TaskOptions, TaskPriority } from './PixelExecutor';
import type { TaskArgs, TaskName, TaskResults } from './pixelTasks';
import { deserializeError, type FromWorker, type ToWorker } from './poolProtocol';

export interface PixelPoolOptions {
  /** Worker threads. Defaults to the machine's cores − 1, at least 1 (the main thread keeps one core). */
  size?: number;
  /** The worker entry (a built .js or a .ts source). Defaults to the one next to this module, built or source. */
  entry?: string;
}

interface Job {
  id: number;
  task: TaskName;
  args: unknown;
  priority: TaskPriority;
  /** The file the task reads: a worker that read it recently has it parsed already. */
  affinity: string | null;
  signal: AbortSignal | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onAbort: (() => void) | null;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Files of the last tasks run here, most recent last. */
  recent: string[];
}

const priorities: TaskPriority[] = ['interactive', 'background', 'bulk'];
const recentFiles = 8;

/** The pixel worker entry next to this module: the electron-vite build's `pixelWorker.js`, or the TypeScript source. */
export function defaultPixelWorkerEntry(): string {
  return findWorkerEntry(import.meta.url, 'pixelWorker', [
    'pixelWorker.ts',
    'pixels/pixelWorker.ts',
    'studies/pixels/pixelWorker.ts',
  ]);
}

/**
 * A small worker_threads pool for the studies service's pixel work (frame decoding, thumbnails, model images, import
 * headers), so the main process — every IPC reply in Electron — never waits for a codec. Workers start on first use
 * and are unref'd while idle (a CLI exits normally). Tasks queue by priority (interactive frames before thumbnails
 * before bulk import) and go to a worker that recently read the same file when one is free. Cancelling rejects at
 * once; a task already running is told to stop at its next stage. A worker that dies fails its tasks with
 * PIXEL_WORKER_FAILED and is replaced on the next task.
 */
export class PixelPool implements PixelExecutor {
  readonly size: number;
  readonly concurrency: number;
  readonly #entry: string;
  readonly #slots: Slot[] = [];
  readonly #queues: Record<TaskPriority, Job[]> = { interactive: [], background: [], bulk: [] };
  #nextId = 1;
  #closed = false;

  constructor(options: PixelPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism() - 1));
    this.concurrency = this.size;
    this.#entry = options.entry ?? defaultPixelWorkerEntry();
  }

  run<T extends TaskName>(task: T, args: TaskArgs[T], options: TaskOptions): Promise<TaskResults[T]> {
    if (this.#closed)
      return Promise.reject(new AppError('NOT_AVAILABLE', 'pixel pool: expected an open pool, found it closed'));
    if (options.signal?.aborted) return Promise.reject(new CancelledError(`studies ${task}`));
    return new Promise<TaskResults[T]>((resolve, reject) => {
      const affinity = 'source' in (args as object) ? (args as { source: { path: string } }).source.path : null;
      const job: Job = {
        id: this.#nextId++,
        task,
        args,
        priority: options.priority,
        affinity,
        signal: options.signal,
        resolve: resolve as (value: unknown) => void,
        reject,
        onAbort: null,
      };
      if (options.signal) {
        job.onAbort = () => this.#cancel(job);
        options.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queues[job.priority].push(job);
      this.#dispatch();
    });
  }

  /** Starts the workers now (app start), so the first frame does not wait for a thread and its codecs to load. */
  warmUp(): void {
    while (!this.#closed && this.#slots.length < this.size) this.#spawn();
  }

  /** Tasks waiting for a worker and tasks running, for tests and diagnostics. */
  get load(): { queued: number; running: number; workers: number } {
    return {
      queued: priorities.reduce((n, p) => n + this.#queues[p].length, 0),
      running: this.#slots.reduce((n, s) => n + s.jobs.size, 0),
      workers: this.#slots.length,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closed = new AppError('NOT_AVAILABLE', 'pixel pool: closed while the task waited');
    for (const p of priorities) for (const job of this.#queues[p].splice(0)) this.#settle(job, closed);
    const slots = this.#slots.splice(0);
    for (const slot of slots) for (const job of slot.jobs.values()) this.#settle(job, closed);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(): Slot {
    const worker = startWorker(this.#entry);
    const slot: Slot = { worker, jobs: new Map(), recent: [] };
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'result') return;
      const job = slot.jobs.get(message.id);
      if (!job) return;
      slot.jobs.delete(message.id);
      if (slot.jobs.size === 0) worker.unref();
      if (message.ok) this.#settle(job, null, message.result);
      else this.#settle(job, deserializeError(message.error));
      this.#dispatch();
    });
    const fail = (why: string): void => {
      const index = this.#slots.indexOf(slot);
      if (index < 0) return;
      this.#slots.splice(index, 1);
      for (const job of slot.jobs.values()) {
        this.#settle(
          job,
          new AppError(
            'PIXEL_WORKER_FAILED',
            `studies ${job.task}: expected the pixel worker to answer, found it ${why}`,
          ),
        );
      }
      slot.jobs.clear();
      this.#dispatch();
    };
    worker.on('error', (error) => fail(`failed (${error.message})`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  #next(): Job | undefined {
    for (const p of priorities) {
      const job = this.#queues[p].shift();
      if (job) return job;
    }
    return undefined;
  }

  /** A free worker for `job`: one that read its file recently, else any free one, else a new one (up to the size). */
  #slotFor(job: Job): Slot | null {
    const free = this.#slots.filter((s) => s.jobs.size === 0);
    const warm = job.affinity ? free.find((s) => s.recent.includes(job.affinity!)) : undefined;
    if (warm) return warm;
    if (free.length > 0) return free[0]!;
    if (this.#slots.length < this.size) return this.#spawn();
    // Bulk tasks (small header reads) may queue behind one another in a worker, so no worker idles on a round trip.
    if (job.priority === 'bulk') {
      return this.#slots.find((s) => s.jobs.size === 1 && [...s.jobs.values()][0]!.priority === 'bulk') ?? null;
    }
    return null;
  }

  #dispatch(): void {
    while (!this.#closed) {
      const job = this.#next();
      if (!job) return;
      const slot = this.#slotFor(job);
      if (!slot) {
        this.#queues[job.priority].unshift(job);
        return;
      }
      slot.jobs.set(job.id, job);
      if (job.affinity) {
        slot.recent = [...slot.recent.filter((f) => f !== job.affinity), job.affinity].slice(-recentFiles);
      }
      slot.worker.ref();
      slot.worker.postMessage({ type: 'task', id: job.id, task: job.task, args: job.args } as ToWorker);
    }
  }

  #cancel(job: Job): void {
    const queue = this.#queues[job.priority];
    const queued = queue.indexOf(job);
    if (queued >= 0) queue.splice(queued, 1);
    const slot = this.#slots.find((s) => s.jobs.has(job.id));
    if (slot) {
      // Running: the worker stops at its next stage and its answer is ignored; the slot frees when it answers.
      slot.worker.postMessage({ type: 'cancel', id: job.id } satisfies ToWorker);
    }
    this.#settle(job, new CancelledError(`studies ${job.task}`));
  }

  #settle(job: Job, error: unknown, value?: unknown): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.onAbort = null;
    const { resolve, reject } = job;
    // Settle once: a cancelled job's late answer finds no-ops.
    job.resolve = () => undefined;
    job.reject = () => undefined;
    if (error) reject(error);
    else resolve(value);
  }
}
