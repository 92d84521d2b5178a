import { setImmediate as nextTurn } from 'node:timers/promises';
import { EngineError } from '../engineErrors';
import type { LlamaCompletionOptions, LlamaCompletionResult, LlamaNodeContext, TokenizeResult } from './llamaNode';

export interface ProbabilityEntry {
  /** The sampled token's text as llama.node formats it. */
  content: string;
  probs: { tok_str: string; prob: number }[];
}

/** One streamed callback of a completion, with this call's probability entries only. */
export interface CompletionChunk {
  text: string;
  entries: ProbabilityEntry[];
}

export interface CompletedCall {
  result: LlamaCompletionResult & {
    stopped_eos?: boolean;
    stopped_words?: boolean;
    stopping_word?: string;
    stopped_limited?: boolean;
  };
  /** This call's probability entries (llama.node's list accumulates across calls; this is the call's slice). */
  entries: ProbabilityEntry[];
  /** Text delivered through the streaming callback (the final text can hold more: a held-back partial stop). */
  streamedText: string;
}

const WEDGE = /Another completion is in progress/;
/**
 * How long a "completion in progress" flag may stay set after the previous call settled (and its callbacks were
 * drained) before it counts as stuck. Measured on the tiny models: once drained, a set flag never cleared by
 * waiting (300 calls, 19 stuck flags, none transient), so patience only needs to cover scheduling noise.
 */
const WEDGE_PATIENCE_MS = 40;
/** Entries of llama.node's ever-growing probability list after which the context is recreated between calls. */
const ACCUMULATION_LIMIT = 50_000;

/**
 * One @fugood/llama.node context behind a strict FIFO queue that awaits the native state, not just the promise:
 *
 * - A call starts only after the previous one settled AND its late token callbacks were delivered (llama.node's
 *   token callbacks travel on a thread-safe function that can be drained after the completion promise resolved).
 * - "Another completion is in progress" right after a settled call (the native busy flag is cleared from the worker
 *   thread, and a completion that finishes before its completion hook is registered never clears it) is retried
 *   with backoff; if the flag stays set, the context is recreated and the call retried once.
 * - The probability list llama.node keeps across calls is sliced per call, and the context is recreated between
 *   calls once that list grows past ACCUMULATION_LIMIT entries (each completion re-serialises all of it).
 */
export class GuardedContext {
  #context: LlamaNodeContext;
  #tail: Promise<unknown> = Promise.resolve();
  #probabilityBase = 0;
  #disposed = false;
  #inFlight = false;
  /** Times the native context was recreated (wedged flag, or accumulated probabilities). */
  recoveries = 0;
  /** Calls that met a transient "completion in progress" and succeeded on retry. */
  retries = 0;

  private constructor(
    context: LlamaNodeContext,
    private readonly open: () => Promise<LlamaNodeContext>,
  ) {
    this.#context = context;
  }

  static async create(open: () => Promise<LlamaNodeContext>): Promise<GuardedContext> {
    return new GuardedContext(await open(), open);
  }

  /** The live native context, for synchronous reads (model info, chat formatting). */
  get native(): LlamaNodeContext {
    return this.#context;
  }

  /** Runs `task` alone on the context, after every earlier task settled. */
  run<T>(task: (context: LlamaNodeContext) => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => {
      if (this.#disposed) throw new EngineError('ENGINE_DISPOSED', 'expected a loaded reasoner, found it disposed');
      return task(this.#context);
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  tokenize(text: string, mediaPaths: string[]): Promise<TokenizeResult> {
    return this.run((context) => context.tokenize(text, mediaPaths.length > 0 ? { media_paths: mediaPaths } : {}));
  }

  /** A completion with per-call streaming; `signal` stops it (the result then has `interrupted`). */
  complete(
    options: LlamaCompletionOptions,
    onChunk: (chunk: CompletionChunk) => void,
    signal?: AbortSignal,
  ): Promise<CompletedCall> {
    return this.run(async () => {
      if (this.#probabilityBase > ACCUMULATION_LIMIT) await this.#recreate();
      const entries: ProbabilityEntry[] = [];
      let streamedText = '';
      let firstCallback = true;
      let lastDelivery = 0;
      const base = this.#probabilityBase;
      const callback = (token: { token: string; completion_probabilities?: ProbabilityEntry[] }): void => {
        let list = token.completion_probabilities ?? [];
        // The first callback of a call carries every entry since the context was created; later ones only new ones.
        if (firstCallback && list.length > base) list = list.slice(base);
        firstCallback = false;
        lastDelivery++;
        entries.push(...list);
        streamedText += token.token;
        onChunk({ text: token.token, entries: list });
      };

      const { started } = await this.#start(options, callback);
      this.#inFlight = true;
      const stop = (): void => this.#context.stopCompletion();
      signal?.addEventListener('abort', stop, { once: true });
      if (signal?.aborted) stop();
      let result: CompletedCall['result'];
      try {
        result = (await started) as CompletedCall['result'];
      } finally {
        this.#inFlight = false;
        signal?.removeEventListener('abort', stop);
      }

      // Late callbacks: wait until the streamed text caught up with the result, or nothing arrived for a few turns.
      let idle = 0;
      let seen = lastDelivery;
      while (streamedText.length < result.text.length && idle < 4) {
        await nextTurn();
        if (lastDelivery === seen) idle++;
        else {
          idle = 0;
          seen = lastDelivery;
        }
      }
      const total = result.completion_probabilities?.length;
      if (total !== undefined) this.#probabilityBase = total;
      // A call's entries beyond what the callbacks delivered (a stop string is never streamed) come from the result.
      if (total !== undefined && total > base + entries.length) {
        entries.push(...(result.completion_probabilities!.slice(base + entries.length) as ProbabilityEntry[]));
      }
      return { result, entries, streamedText };
    });
  }

  async #start(
    options: LlamaCompletionOptions,
    callback: (token: { token: string; completion_probabilities?: ProbabilityEntry[] }) => void,
  ): Promise<{ started: Promise<LlamaCompletionResult> }> {
    let recreated = false;
    let waited = 0;
    let delay = 0;
    for (;;) {
      try {
        // Wrapped: an async function returning the promise itself would wait for it to settle.
        return { started: this.#context.completion(options, callback as never) };
      } catch (error) {
        if (!(error instanceof Error) || !WEDGE.test(error.message)) throw error;
        if (waited >= WEDGE_PATIENCE_MS) {
          if (recreated) {
            throw new EngineError('ENGINE_WEDGED', `expected the reasoner context to accept a completion, found it busy after recreating it`, {
              cause: error,
            });
          }
          await this.#recreate();
          recreated = true;
          waited = 0;
          continue;
        }
        if (delay === 0) await nextTurn();
        else await new Promise((resolve) => setTimeout(resolve, delay));
        waited += Math.max(delay, 0.1);
        delay = delay === 0 ? 1 : Math.min(delay * 2, 50);
        this.retries++;
      }
    }
  }

  async #recreate(): Promise<void> {
    const old = this.#context;
    // A stuck flag points at a finished worker; release() only sets a stop flag on it before disposing the context.
    await old.release().catch(() => undefined);
    this.#context = await this.open();
    this.#probabilityBase = 0;
    this.recoveries++;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    // Only while a call runs: after a stuck call, the native pointer the stop flag is written to is stale.
    if (this.#inFlight) this.#context.stopCompletion();
    await this.#tail;
    this.#disposed = true;
    await this.#context.release();
  }
}
