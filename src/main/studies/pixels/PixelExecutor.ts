import {
  cancelledCheck,
  createTaskContext,
  runTask,
  type TaskArgs,
  type TaskName,
  type TaskResults,
} from './pixelTasks';

/**
 * How urgent a task is: a frame the reader is looking at, a thumbnail or model image, or one file of a bulk import.
 * A pool serves the queue in this order.
 */
export type TaskPriority = 'interactive' | 'background' | 'bulk';

export interface TaskOptions {
  priority: TaskPriority;
  /** Aborting rejects the task with CancelledError at once; work already running stops at its next stage. */
  signal?: AbortSignal;
}

/** Runs the studies service's pixel tasks: in worker threads (PixelPool) or on the calling thread (inline). */
export interface PixelExecutor {
  /** How many tasks run at once (threads). */
  readonly concurrency: number;
  run<T extends TaskName>(task: T, args: TaskArgs[T], options: TaskOptions): Promise<TaskResults[T]>;
  /** Stops the executor's threads (pending tasks are rejected). */
  close(): Promise<void>;
}

/**
 * The synchronous fallback: every task on the calling thread, one parsed-file cache. What the CLI and tests get when
 * no pool is passed; decoding then blocks the caller's event loop as long as it runs.
 */
export class InlinePixelExecutor implements PixelExecutor {
  readonly concurrency = 1;
  readonly #context = createTaskContext(false);

  async run<T extends TaskName>(task: T, args: TaskArgs[T], options: TaskOptions): Promise<TaskResults[T]> {
    return runTask({ ...this.#context, checkCancelled: cancelledCheck(options.signal, `studies ${task}`) }, task, args);
  }

  async close(): Promise<void> {
    // nothing to stop
  }
}
