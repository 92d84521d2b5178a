import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { loadModel } from '@fugood/llama.node';
import type {
  ChatMessage,
  GenerateOptions,
  GenerationResult,
  ModelIdentity,
  ModelImageInput,
  NextTokenProbe,
  Reasoner,
  ReasonerSession,
  TokenAlternative,
} from '../../engine/ports';
import { CancelledError } from '../../errors/AppError';

/**
 * A `Reasoner` over @fugood/llama.node in this process, for the reasoning tests and benchmark on tiny models.
 * The app uses the engine's supervised adapter (a bad model file must not crash the app); this one exists so the
 * loop can be exercised end to end with real tokens and probabilities wherever llama.node loads.
 *
 * The transcript is kept as text and each call passes it whole: llama.cpp reuses the KV cache for the common prefix,
 * so only new tokens are evaluated, and `rewind` is a string cut.
 */
export class InProcessLlamaReasoner implements Reasoner {
  readonly mediaMarker = '<__media__>';
  readonly hasVision: boolean;
  readonly #vocab = new Map<string, number>();
  #busy: Promise<unknown> = Promise.resolve();
  /** Contexts replaced after llama.node left them stuck (see `recover`). */
  recoveries = 0;

  private constructor(
    public context: LlamaContext,
    readonly model: ModelIdentity,
    readonly projector: ModelIdentity | null,
    private readonly options: LoadOptions,
  ) {
    this.hasVision = projector !== null;
  }

  static async load(options: LoadOptions): Promise<InProcessLlamaReasoner> {
    return new InProcessLlamaReasoner(
      await openContext(options),
      identify(options.model),
      options.mmproj ? identify(options.mmproj) : null,
      options,
    );
  }

  /**
   * llama.node 1.7.15 queues a completion's worker before registering the hook that clears its busy flag
   * (LlamaContext.cpp, Completion: `worker->Queue(); _wip = worker; worker->OnComplete(…)`): when the worker finishes
   * first (a one-token completion on a busy machine), every later completion fails with "Another completion is in
   * progress". The stuck context cannot be released safely (its dangling worker would be touched), so it is left
   * and a new one is opened; sessions keep their transcripts as text and carry on.
   */
  async recover(): Promise<void> {
    this.recoveries++;
    this.context = await openContext(this.options);
  }

  /** A stable id per token text (llama.node reports token strings, not ids). */
  tokenId(text: string): number {
    let id = this.#vocab.get(text);
    if (id === undefined) this.#vocab.set(text, (id = this.#vocab.size));
    return id;
  }

  /** Serialises calls: one llama.cpp context runs one completion at a time. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(work, work);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async createSession(): Promise<ReasonerSession> {
    return new InProcessSession(this);
  }

  async dispose(): Promise<void> {
    await this.#busy;
    await this.context.release();
  }
}

interface LoadOptions {
  model: string;
  mmproj?: string | null;
  contextSize?: number;
  threads?: number;
}

async function openContext(options: LoadOptions): Promise<LlamaContext> {
  const context = await loadModel({ model: options.model, n_ctx: options.contextSize ?? 4096, n_threads: options.threads ?? 1, n_gpu_layers: 0 });
  if (options.mmproj && !(await context.initMultimodal({ path: options.mmproj, use_gpu: false }))) {
    await context.release();
    throw new Error(`the vision projector ${options.mmproj} did not initialise`);
  }
  return context;
}

function identify(path: string): ModelIdentity {
  const bytes = readFileSync(path);
  return { path, name: basename(path), sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: statSync(path).size };
}

function mediaOf(image: ModelImageInput): string {
  return 'path' in image ? image.path : `data:image/png;base64,${Buffer.from(image.png).toString('base64')}`;
}

type LlamaContext = Awaited<ReturnType<typeof loadModel>>;
type CompletionOptions = Parameters<LlamaContext['completion']>[0];
type CompletionToken = Parameters<NonNullable<Parameters<LlamaContext['completion']>[1]>>[0];

class InProcessSession implements ReasonerSession {
  #transcript = '';
  #media: string[] = [];

  constructor(private readonly reasoner: InProcessLlamaReasoner) {}

  get transcript(): string {
    return this.#transcript;
  }

  async start(messages: ChatMessage[], options: GenerateOptions = {}): Promise<GenerationResult> {
    const marker = this.reasoner.mediaMarker;
    const chat = messages.map((m) => ({ role: m.role, content: `${(m.images ?? []).map(() => marker).join('')}${m.content}` }));
    const formatted = this.reasoner.context.getFormattedChat(chat, undefined, { jinja: true, add_generation_prompt: true });
    this.#transcript = typeof formatted === 'string' ? formatted : formatted.prompt;
    this.#media = messages.flatMap((m) => (m.images ?? []).map(mediaOf));
    return this.#generate(options);
  }

  async continue(appended: string, options: GenerateOptions & { images?: ModelImageInput[] } = {}): Promise<GenerationResult> {
    this.#transcript += appended;
    this.#media.push(...(options.images ?? []).map(mediaOf));
    return this.#generate(options);
  }

  async rewind(length: number): Promise<void> {
    this.#transcript = this.#transcript.slice(0, length);
    const markers = this.#transcript.split(this.reasoner.mediaMarker).length - 1;
    this.#media = this.#media.slice(0, markers);
  }

  async probeNextToken(options: { appended?: string; candidates?: string[]; top?: number; signal?: AbortSignal } = {}): Promise<NextTokenProbe> {
    const top = Math.max(options.top ?? 10, 1);
    let probs: { tok_str: string; prob: number }[] = [];
    const r = await this.#complete(
      {
        prompt: this.#transcript + (options.appended ?? ''),
        media_paths: this.#media,
        n_predict: 1,
        temperature: 1,
        // The probe samples one token that enters the KV cache; a fixed seed keeps the cache, hence the run, reproducible.
        seed: 0,
        top_k: 0,
        top_p: 1,
        min_p: 0,
        // Enough to cover a tiny vocabulary completely, so every candidate's probability is known.
        n_probs: Math.max(top, 1024),
      },
      (d) => {
        probs = d.completion_probabilities?.at(-1)?.probs ?? probs;
      },
      options.signal,
    );
    // The result is authoritative: a token that is an incomplete UTF-8 sequence is never streamed to the callback.
    // (The list accumulates over the context's completions, so its last entry is this one's.)
    probs = r.completion_probabilities?.at(-1)?.probs ?? probs;
    const topTokens: TokenAlternative[] = probs
      .slice(0, top)
      .map((p) => ({ text: p.tok_str, tokenId: this.reasoner.tokenId(p.tok_str), probability: p.prob }));
    const candidates = [];
    for (const text of options.candidates ?? []) {
      // The first token that carries text: SentencePiece vocabularies may start any string with a bare space.
      const tokens = await this.reasoner.exclusive(() => this.reasoner.context.tokenize(text));
      let firstText = '';
      for (const id of tokens.tokens) {
        firstText = await this.reasoner.exclusive(() => this.reasoner.context.detokenize([id]));
        if (/\S/.test(firstText)) break;
      }
      const p = probs.find((x) => x.tok_str === firstText)?.prob ?? 0;
      candidates.push({ text, tokenId: this.reasoner.tokenId(firstText), probability: p });
    }
    return { top: topTokens, candidates };
  }

  async dispose(): Promise<void> {}

  async #generate(options: GenerateOptions): Promise<GenerationResult> {
    let streamed = '';
    const started = performance.now();
    const r = await this.#complete(
      {
        prompt: this.#transcript,
        media_paths: this.#media,
        n_predict: options.maxTokens ?? 512,
        temperature: options.temperature ?? 0,
        top_p: options.topP ?? 1,
        seed: options.seed ?? 42,
        n_probs: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        ...(options.grammar ? { grammar: options.grammar } : {}),
      },
      (d) => {
        streamed += d.token;
        const probs = d.completion_probabilities?.at(-1)?.probs ?? [];
        try {
          options.onToken?.({
            text: d.token,
            tokenId: this.reasoner.tokenId(d.token),
            probability: probs.find((p) => p.tok_str === d.token)?.prob ?? null,
            topAlternatives: [],
          });
        } catch {
          // A failing consumer never stops the generation.
        }
      },
      options.signal,
    );
    // llama.node may deliver the last token callbacks after the completion resolved: give them a few turns.
    for (let i = 0; i < 5 && streamed.length < r.text.length; i++) await new Promise((resolve) => setImmediate(resolve));
    const result = r as typeof r & { stopped_words?: boolean; stopping_word?: string; stopped_eos?: boolean };
    const stopString = result.stopped_words && result.stopping_word ? result.stopping_word : null;
    const text = r.text + (stopString ?? '');
    this.#transcript += text;
    return {
      text,
      stoppedBy: r.interrupted
        ? 'abort'
        : stopString
          ? 'stop'
          : (result as { stopped_limited?: boolean }).stopped_limited || r.tokens_predicted >= (options.maxTokens ?? 512)
            ? 'limit'
            : 'eos',
      stopString,
      promptTokens: r.timings.prompt_n,
      cachedTokens: Math.max(0, r.tokens_evaluated - r.timings.prompt_n),
      generatedTokens: r.tokens_predicted,
      timings: { promptMs: r.timings.prompt_ms, generateMs: Math.max(0, performance.now() - started - r.timings.prompt_ms) },
    };
  }

  async #complete(options: CompletionOptions, onToken: (d: CompletionToken) => void, signal: AbortSignal | undefined) {
    return this.reasoner.exclusive(async () => {
      if (signal?.aborted) throw new CancelledError('generation');
      const stop = (): void => this.reasoner.context.stopCompletion();
      signal?.addEventListener('abort', stop, { once: true });
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await this.reasoner.context.completion(options, onToken);
            if (signal?.aborted) throw new CancelledError('generation');
            return r;
          } catch (error) {
            if (!/Another completion is in progress/.test(String(error))) throw error;
            // The busy flag may clear a moment after the promise resolves (see the tiny-model spec); if it stays, the
            // context is stuck for good (see `recover`). Only this lock's holder runs completions.
            if (attempt < 40) {
              await new Promise((r) => setTimeout(r, 5));
            } else if (attempt === 40) {
              await this.reasoner.recover();
            } else {
              throw error;
            }
          }
        }
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    });
  }
}
