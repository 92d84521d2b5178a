import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CancelledError, InvalidInputError, throwIfAborted } from '../../errors/AppError';
import { EngineError, engineErrorFromNative } from '../engineErrors';
import type {
  ChatMessage,
  GeneratedToken,
  GenerateOptions,
  GenerationResult,
  ModelIdentity,
  ModelImageInput,
  NextTokenProbe,
  Reasoner,
  ReasonerSession,
  TokenAlternative,
} from '../ports';
import { physicalCores } from '../system/machine';
import { GuardedContext, type CompletedCall, type ProbabilityEntry } from './GuardedContext';
import { llamaNode, type LlamaCompletionOptions, type LlamaNodeContext, type TokenizeResult } from './llamaNode';
import { PieceTable } from './PieceTable';

export const MEDIA_MARKER = '<__media__>';

export interface LlamaNodeReasonerOptions {
  model: ModelIdentity;
  projector?: ModelIdentity | null;
  /** Context window in tokens. Defaults to 4096. */
  contextSize?: number;
  /** CPU threads. Defaults to the machine's physical cores. */
  threads?: number;
  /** Layers offloaded to the GPU. Defaults to 0. */
  gpuLayers?: number;
  /** Whether the vision projector runs on the GPU. Defaults to true. */
  mmprojOffload?: boolean;
  /** llama.node native build: 'cuda' / 'vulkan' builds for GPUs. Defaults to 'default'. */
  libVariant?: 'default' | 'cuda' | 'vulkan';
  /** Prompt batch size. Defaults to 512. */
  batchSize?: number;
}

/** Tokens a probe asks llama.node for: enough for any sensible top-k and for answer options near the top. */
const PROBE_ENTRIES = 256;

/** Sampling that leaves the model's distribution alone except for what the caller asked (llama.node's defaults add XTC, DRY and top-k 40). */
export const neutralSampling = {
  top_k: 0,
  min_p: 0,
  typical_p: 1,
  xtc_probability: 0,
  dry_multiplier: 0,
  penalty_repeat: 1,
  penalty_freq: 0,
  penalty_present: 0,
  mirostat: 0,
} as const;

const countMarkers = (text: string): number => text.split(MEDIA_MARKER).length - 1;

/** Prompt positions as comparable values: token ids, and each image position as its bitmap's hash. */
function signature(tokens: TokenizeResult): (number | string)[] {
  const positions: (number | string)[] = Array.from(tokens.tokens);
  const media = tokens.chunk_pos_media ?? [];
  const bitmaps = tokens.bitmap_hashes ?? [];
  const chunkHashes = bitmaps.filter((h) => h.startsWith('chunk:'));
  const hashes = chunkHashes.length === media.length ? chunkHashes : bitmaps;
  media.forEach((start, i) => {
    for (let k = start; k < positions.length && positions[k] === -1; k++) positions[k] = `media:${hashes[i] ?? i}`;
  });
  return positions;
}

function commonPrefix(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * PNG bytes become a content-addressed file for mtmd: llama.node's base64 data-URL path failed now and then in
 * tests ("Failed to load base64 media"), its file path never did.
 */
const imageDir = join(tmpdir(), `medrwr-engine-${process.pid}`);

function mediaPath(image: ModelImageInput): string {
  if ('png' in image) {
    const path = join(imageDir, `${createHash('sha256').update(image.png).digest('hex')}.png`);
    if (!existsSync(path)) {
      mkdirSync(imageDir, { recursive: true });
      writeFileSync(path, image.png);
    }
    return path;
  }
  if (!existsSync(image.path)) throw new InvalidInputError('image', 'an existing PNG or JPEG file', `no file at ${image.path}`);
  return image.path;
}

/** Removes the image files this process wrote for mtmd. */
export function removeImageFiles(): void {
  rmSync(imageDir, { recursive: true, force: true });
}

/**
 * The reasoner on @fugood/llama.node: a multimodal chat model (optionally with its vision projector) whose sessions
 * stream tokens with probabilities, stop on strings, abort, continue a transcript with KV-cache prefix reuse, and
 * probe the model's own next-token distribution at temperature 1 with no truncation (the honest confidence).
 */
export class LlamaNodeReasoner implements Reasoner {
  readonly mediaMarker = MEDIA_MARKER;
  readonly hasVision: boolean;
  readonly contextSize: number;
  /** Whether the model's chat template renders with jinja (read once: model info is slow to build). */
  readonly #jinja: boolean;
  /** What the native context last evaluated (prompt + output), for counting cache reuse on calls with images. */
  #last: { text: string; media: string[]; recoveries: number } | null = null;

  private constructor(
    readonly model: ModelIdentity,
    readonly projector: ModelIdentity | null,
    private readonly context: GuardedContext,
    private readonly pieces: PieceTable,
    contextSize: number,
  ) {
    this.contextSize = contextSize;
    this.hasVision = projector !== null && context.native.getMultimodalSupport().vision;
    const { jinja } = context.native.getModelInfo().chatTemplates;
    this.#jinja = !!(jinja?.default || jinja?.toolUse);
  }

  static async load(options: LlamaNodeReasonerOptions): Promise<LlamaNodeReasoner> {
    const contextSize = options.contextSize ?? 4096;
    const projector = options.projector ?? null;
    const pieces = await PieceTable.fromGguf(options.model.path);
    const open = async (): Promise<LlamaNodeContext> => {
      let context: LlamaNodeContext;
      try {
        context = await llamaNode().loadModel({
          model: options.model.path,
          n_ctx: contextSize,
          n_batch: options.batchSize ?? 512,
          n_threads: options.threads ?? physicalCores(),
          n_gpu_layers: options.gpuLayers ?? 0,
          n_parallel: 1,
          // A full context must be an error the user sees, not a silent loss of the transcript's start.
          ctx_shift: false,
          lib_variant: options.libVariant ?? 'default',
        });
      } catch (error) {
        throw engineErrorFromNative(error, 'MODEL_LOAD_FAILED', `${basename(options.model.path)} could not be loaded`);
      }
      if (projector) {
        let ok = false;
        try {
          ok = context.initMultimodal({ path: projector.path, use_gpu: options.mmprojOffload ?? true });
        } catch {
          ok = false;
        }
        if (!ok) {
          await context.release().catch(() => undefined);
          throw new EngineError(
            'MODEL_LOAD_FAILED',
            `${basename(projector.path)}: expected a vision projector that llama.cpp's mtmd accepts for ${basename(options.model.path)}, found it refused ("Failed to initialize multimodal context")`,
            { details: { path: projector.path } },
          );
        }
      }
      return context;
    };
    const context = await GuardedContext.create(open);
    return new LlamaNodeReasoner(options.model, projector, context, pieces, contextSize);
  }

  /** Native-state guard counters (for the stress test and diagnostics). */
  get guard(): { retries: number; recoveries: number } {
    return { retries: this.context.retries, recoveries: this.context.recoveries };
  }

  async createSession(): Promise<ReasonerSession> {
    return new LlamaNodeSession(this);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
  }

  /** @internal The chat prompt for `messages` through the model's template (jinja when it has one). */
  formatChat(messages: ChatMessage[]): string {
    const chat = messages.map((m) => ({
      role: m.role,
      content: [...(m.images ?? []).map(() => MEDIA_MARKER), m.content].join('\n'),
    }));
    const formatted = this.context.native.ctx.getFormattedChat(chat, undefined, { jinja: this.#jinja, add_generation_prompt: true });
    return typeof formatted === 'string' ? formatted : formatted.prompt;
  }

  #requireVision(images: ModelImageInput[]): void {
    if (images.length > 0 && !this.hasVision) {
      throw new EngineError(
        'MODEL_NO_VISION',
        `expected a reasoner with a vision projector (mmproj) to read ${images.length === 1 ? 'the image' : `${images.length} images`}, found ${basename(this.model.path)} loaded without one`,
        { details: { model: this.model.path } },
      );
    }
  }

  /** Tokenizes the whole prompt (images included) and refuses one that cannot fit the context window. */
  async #positions(prompt: string, media: string[], reserve: number): Promise<TokenizeResult> {
    const tokens = await this.context.tokenize(prompt, media);
    // A completion evaluates the prompt with its BOS token; llama.node's text-only tokenize() leaves it out.
    const bos = this.pieces.bos;
    if (bos !== null && tokens.tokens[0] !== bos) tokens.tokens = Int32Array.from([bos, ...tokens.tokens]);
    const positions = tokens.tokens.length;
    if (positions + reserve > this.contextSize) {
      throw new EngineError(
        'CONTEXT_OVERFLOW',
        `expected the transcript to fit the context window of ${this.contextSize} tokens, found ${positions} tokens${reserve > 1 ? ` (+${reserve} to generate)` : ''} — start a new session or raise the context size`,
        { details: { contextSize: this.contextSize, promptTokens: positions } },
      );
    }
    return tokens;
  }

  /**
   * Prompt positions llama.node takes from its KV cache for this prompt. Text-only calls are measured (llama.cpp's
   * prompt-eval counter); with images that counter misses image batches, so the reuse is computed the way mtmd's
   * prompt cache decides it: the common prefix of token ids and image hashes with what the context last evaluated.
   */
  async #cachedPositions(tokens: TokenizeResult, media: string[], measuredPrompt: number): Promise<number> {
    const positions = tokens.tokens.length;
    if (media.length === 0) return positions - Math.min(positions, Math.max(1, measuredPrompt));
    const last = this.#last;
    if (!last || last.recoveries !== this.context.recoveries) return 0;
    const previous = signature(await this.context.tokenize(last.text, last.media));
    const shared = commonPrefix(previous, signature(tokens));
    // At least one position is always evaluated, to produce the logits of the next token.
    return Math.min(shared, positions - 1);
  }

  #token(entry: ProbabilityEntry | undefined, text: string, alternatives: number): GeneratedToken {
    if (!entry) return { text, tokenId: -1, probability: null, topAlternatives: [] };
    const sampled = entry.probs.find((p) => p.tok_str === entry.content);
    return {
      text,
      tokenId: this.pieces.idOf(entry.content),
      probability: sampled ? sampled.prob : null,
      topAlternatives: this.#alternatives(entry.probs.slice(0, alternatives)),
    };
  }

  #alternatives(probs: { tok_str: string; prob: number }[]): TokenAlternative[] {
    const seen = new Map<string, number>();
    return probs.map((p) => {
      const occurrence = seen.get(p.tok_str) ?? 0;
      seen.set(p.tok_str, occurrence + 1);
      return { tokenId: this.pieces.idOf(p.tok_str, occurrence), text: p.tok_str, probability: p.prob };
    });
  }

  /** Splits one callback's text over its probability entries: each entry's piece where it matches, the rest last. */
  #tokensOf(text: string, entries: ProbabilityEntry[], alternatives: number): GeneratedToken[] {
    if (entries.length === 0) return text ? [this.#token(undefined, text, alternatives)] : [];
    let rest = text;
    return entries.map((entry, i) => {
      if (i === entries.length - 1) return this.#token(entry, rest, alternatives);
      const piece = entry.content;
      const own = !piece.startsWith('byte: ') && rest.startsWith(piece) ? piece : '';
      rest = rest.slice(own.length);
      return this.#token(entry, own, alternatives);
    });
  }

  /** @internal One generation over the full prompt; llama.node reuses the KV cache for the common prefix. */
  async generate(prompt: string, images: ModelImageInput[], options: GenerateOptions = {}): Promise<GenerationResult> {
    throwIfAborted(options.signal, 'generation');
    this.#requireVision(images);
    const media = images.map(mediaPath);
    const maxTokens = options.maxTokens ?? 512;
    const tokenized = await this.#positions(prompt, media, 1);
    const cachedBefore = media.length > 0 ? await this.#cachedPositions(tokenized, media, 0) : null;
    const alternatives = options.topAlternatives ?? 0;
    let emittedEntries = 0;
    const deliver = (tokens: GeneratedToken[]): void => {
      for (const token of tokens) {
        try {
          options.onToken?.(token);
        } catch {
          // A consumer's failure must not stop the generation.
        }
      }
    };
    const request: LlamaCompletionOptions = {
      prompt,
      ...(media.length > 0 ? { media_paths: media } : {}),
      n_predict: maxTokens,
      stop: options.stop ?? [],
      temperature: options.temperature ?? 0,
      top_p: options.topP ?? 1,
      seed: options.seed ?? 42,
      ...(options.grammar ? { grammar: options.grammar } : {}),
      // At least one: the sampled token's probability is part of every streamed token.
      n_probs: Math.max(1, alternatives),
      ...neutralSampling,
    };
    let call: CompletedCall;
    try {
      call = await this.context.complete(
        request,
        (chunk) => {
          emittedEntries += chunk.entries.length;
          deliver(this.#tokensOf(chunk.text, chunk.entries, alternatives));
        },
        options.signal,
      );
    } catch (error) {
      throw engineErrorFromNative(error, 'GENERATION_FAILED', `generation with ${basename(this.model.path)} failed`);
    }
    const { result } = call;
    const stopString = result.stopped_words && result.stopping_word ? result.stopping_word : null;
    const text = result.text + (stopString ?? '');
    if (text.length > call.streamedText.length && text.startsWith(call.streamedText)) {
      deliver(this.#tokensOf(text.slice(call.streamedText.length), call.entries.slice(emittedEntries), alternatives));
    }
    const cachedTokens = cachedBefore ?? (await this.#cachedPositions(tokenized, media, result.timings.prompt_n));
    this.#last = { text: prompt + text, media, recoveries: this.context.recoveries };
    return {
      text,
      stoppedBy: result.interrupted ? 'abort' : stopString !== null ? 'stop' : result.stopped_eos ? 'eos' : 'limit',
      stopString,
      promptTokens: tokenized.tokens.length - cachedTokens,
      cachedTokens,
      // Every generated token carries one probability entry (llama.node's own counter is one short).
      generatedTokens: call.entries.length,
      timings: { promptMs: result.timings.prompt_ms, generateMs: result.timings.predicted_ms },
    };
  }

  /** @internal The next-token distribution after `prompt`, at temperature 1, with no truncation. */
  async probe(
    prompt: string,
    images: ModelImageInput[],
    options: { candidates?: string[]; top?: number; signal?: AbortSignal },
  ): Promise<NextTokenProbe> {
    throwIfAborted(options.signal, 'probe');
    this.#requireVision(images);
    const media = images.map(mediaPath);
    await this.#positions(prompt, media, 1);
    const top = options.top ?? 10;
    const call = await this.context
      .complete(
        {
          prompt,
          ...(media.length > 0 ? { media_paths: media } : {}),
          n_predict: 1,
          n_probs: Math.min(this.pieces.size || PROBE_ENTRIES, Math.max(top, PROBE_ENTRIES)),
          temperature: 1,
          top_p: 1,
          seed: 42,
          ...neutralSampling,
        },
        () => undefined,
        options.signal,
      )
      .catch((error: unknown) => {
        throw engineErrorFromNative(error, 'GENERATION_FAILED', `probe with ${basename(this.model.path)} failed`);
      });
    this.#last = { text: prompt, media, recoveries: this.context.recoveries };
    if (call.result.interrupted) throw new CancelledError('probe');
    const probs = call.entries[0]?.probs ?? [];
    const ranked = this.#alternatives(probs);
    const candidates: NextTokenProbe['candidates'] = [];
    for (const text of options.candidates ?? []) {
      const tokenId = await this.#firstTokenOf(prompt, text);
      candidates.push({ text, tokenId, probability: ranked.find((r) => r.tokenId === tokenId)?.probability ?? 0 });
    }
    return { top: ranked.slice(0, top), candidates };
  }

  /** The token that would start `candidate` right after `prompt` (tokenized in context: SentencePiece adds "▁"). */
  async #firstTokenOf(prompt: string, candidate: string): Promise<number> {
    const tail = prompt.slice(-64);
    const [before, after] = await Promise.all([this.context.tokenize(tail, []), this.context.tokenize(tail + candidate, [])]);
    const a = before.tokens;
    const b = after.tokens;
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return b[i] ?? -1;
  }
}

class LlamaNodeSession implements ReasonerSession {
  #transcript = '';
  #images: ModelImageInput[] = [];
  #started = false;
  #disposed = false;

  constructor(private readonly reasoner: LlamaNodeReasoner) {}

  get transcript(): string {
    return this.#transcript;
  }

  #alive(): void {
    if (this.#disposed) throw new EngineError('ENGINE_DISPOSED', 'expected an open reasoner session, found it disposed');
  }

  async start(messages: ChatMessage[], options?: GenerateOptions): Promise<GenerationResult> {
    this.#alive();
    if (this.#started) throw new InvalidInputError('session.start', 'a fresh session', 'one that already started (use continue)');
    const prompt = this.reasoner.formatChat(messages);
    const images = messages.flatMap((m) => m.images ?? []);
    this.#started = true;
    return this.#generate(prompt, images, options);
  }

  async continue(appended: string, options: GenerateOptions & { images?: ModelImageInput[] } = {}): Promise<GenerationResult> {
    this.#alive();
    if (!this.#started) throw new InvalidInputError('session.continue', 'a started session', 'a fresh one (call start first)');
    const images = options.images ?? [];
    const markers = countMarkers(appended);
    if (markers !== images.length) {
      throw new InvalidInputError('continue', `one image per "${MEDIA_MARKER}" in the appended text (${markers})`, `${images.length} images`);
    }
    return this.#generate(this.#transcript + appended, images, options);
  }

  async #generate(prompt: string, newImages: ModelImageInput[], options?: GenerateOptions): Promise<GenerationResult> {
    const images = [...this.#images, ...newImages];
    const result = await this.reasoner.generate(prompt, images, options);
    this.#transcript = prompt + result.text;
    this.#images = images;
    return result;
  }

  async probeNextToken(options: { appended?: string; candidates?: string[]; top?: number; signal?: AbortSignal } = {}): Promise<NextTokenProbe> {
    this.#alive();
    const appended = options.appended ?? '';
    if (countMarkers(appended) > 0) throw new InvalidInputError('probe', 'appended text without media markers', 'a media marker');
    return this.reasoner.probe(this.#transcript + appended, this.#images, options);
  }

  async rewind(length: number): Promise<void> {
    this.#alive();
    if (!Number.isInteger(length) || length < 0 || length > this.#transcript.length) {
      throw new InvalidInputError('rewind', `a length from 0 to ${this.#transcript.length}`, String(length));
    }
    for (let at = this.#transcript.indexOf(MEDIA_MARKER); at >= 0; at = this.#transcript.indexOf(MEDIA_MARKER, at + 1)) {
      if (length > at && length < at + MEDIA_MARKER.length) {
        throw new InvalidInputError('rewind', 'a length outside a media marker', `${length}, inside the marker at ${at}`);
      }
    }
    const kept = this.#transcript.slice(0, length);
    this.#transcript = kept;
    this.#images = this.#images.slice(0, countMarkers(kept));
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
  }
}
