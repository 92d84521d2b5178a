import type {
  ChatMessage,
  GenerateOptions,
  GenerationResult,
  ModelIdentity,
  ModelImageInput,
  NextTokenProbe,
  Reasoner,
  ReasonerSession,
} from '../../engine/ports';
import { CancelledError } from '../../errors/AppError';

/** What the scripted model writes after it reads something new (the prompt, a retrieve block, the CDIR turn). */
export interface ScriptSegment {
  text: string;
  /** Probability the probe gives the next planned token. Defaults to 0.95. */
  confidence?: number;
  /** Full next-token distribution at answer positions (token text → probability); overrides `confidence`. */
  probs?: Record<string, number>;
}

export type ScriptStep = string | ScriptSegment | ((transcript: string) => string | ScriptSegment);

export interface ScriptedReasonerOptions {
  /** Segment i is written after the prompt (i = 0) or after the i-th non-empty append. Past the end: EOS. */
  script: ScriptStep[];
  hasVision?: boolean;
  /** Whether sessions support `rewind`. Defaults to true. */
  rewind?: boolean;
  /** Defaults to a BPE-like split: a letter run of up to 3 with its leading space, or one other character. */
  tokenize?: (text: string) => string[];
  /** Called before each generated token with the text generated so far in that call (e.g. to cancel mid-query). */
  beforeToken?: (generated: string, session: ScriptedSession) => void;
  /** Yields to the event loop between tokens, so aborts can land mid-generation. Defaults to true. */
  yieldBetweenTokens?: boolean;
}

export interface RecordedCall {
  kind: 'start' | 'continue' | 'probe' | 'rewind';
  appended: string;
  images: number;
  options: Omit<GenerateOptions, 'onToken' | 'signal'>;
  result?: GenerationResult;
  probeCandidates?: string[];
}

const MARKER = '<__media__>';

export function defaultTokenize(text: string): string[] {
  return text.match(/\s?[A-Za-z]{1,3}|\s|[\s\S]/g) ?? [];
}

const identity = (name: string): ModelIdentity => ({ path: `/scripted/${name}`, name, sha256: `sha-${name}`, sizeBytes: 1 });

/** A `Reasoner` double that writes a script, honouring stops, token limits, continuation, rewind and aborts. */
export class ScriptedReasoner implements Reasoner {
  readonly model = identity('scripted-model');
  readonly projector: ModelIdentity | null;
  readonly hasVision: boolean;
  readonly mediaMarker = MARKER;
  readonly sessions: ScriptedSession[] = [];

  constructor(readonly options: ScriptedReasonerOptions) {
    this.hasVision = options.hasVision ?? true;
    this.projector = this.hasVision ? identity('scripted-mmproj') : null;
  }

  async createSession(): Promise<ReasonerSession> {
    const session = new ScriptedSession(this.options);
    this.sessions.push(session);
    return session;
  }

  async dispose(): Promise<void> {}
}

export class ScriptedSession implements ReasonerSession {
  readonly calls: RecordedCall[] = [];
  readonly images: ModelImageInput[] = [];
  disposed = false;
  #transcript = '';
  #plan: string[] = [];
  #segment: ScriptSegment | null = null;
  #next = 0;
  readonly #vocab = new Map<string, number>();
  readonly #tokenize: (text: string) => string[];
  rewind?: (length: number) => Promise<void>;

  constructor(private readonly options: ScriptedReasonerOptions) {
    this.#tokenize = options.tokenize ?? defaultTokenize;
    if (options.rewind ?? true) {
      this.rewind = async (length: number) => {
        if (length < 0 || length > this.#transcript.length) throw new Error(`rewind to ${length} outside the transcript`);
        this.#transcript = this.#transcript.slice(0, length);
        this.#plan = [];
        this.calls.push({ kind: 'rewind', appended: '', images: 0, options: {} });
      };
    }
  }

  get transcript(): string {
    return this.#transcript;
  }

  tokenId(text: string): number {
    let id = this.#vocab.get(text);
    if (id === undefined) {
      id = this.#vocab.size + 1;
      this.#vocab.set(text, id);
    }
    return id;
  }

  async start(messages: ChatMessage[], options: GenerateOptions = {}): Promise<GenerationResult> {
    const rendered = messages
      .map((m) => `<s>${m.role}: ${(m.images ?? []).map(() => MARKER).join('')}${m.content}</s>`)
      .join('');
    this.images.push(...messages.flatMap((m) => m.images ?? []));
    this.#transcript = `${rendered}<s>assistant: `;
    this.#advance();
    return this.#generate('start', this.#transcript, 0, options);
  }

  async continue(appended: string, options: GenerateOptions & { images?: ModelImageInput[] } = {}): Promise<GenerationResult> {
    const markers = appended.split(MARKER).length - 1;
    if (markers !== (options.images?.length ?? 0)) {
      throw new Error(`expected ${markers} images for the markers in the appended text, found ${options.images?.length ?? 0}`);
    }
    this.images.push(...(options.images ?? []));
    this.#transcript += appended;
    if (appended) this.#advance();
    return this.#generate('continue', appended, options.images?.length ?? 0, options);
  }

  async probeNextToken(options: { appended?: string; candidates?: string[]; top?: number; signal?: AbortSignal } = {}): Promise<NextTokenProbe> {
    if (options.signal?.aborted) throw new CancelledError('probe');
    const distribution = this.#distribution();
    const top = [...distribution.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, options.top ?? 10)
      .map(([text, probability]) => ({ text, tokenId: this.tokenId(text), probability }));
    const candidates = (options.candidates ?? []).map((c) => {
      const first = this.#tokenize(c)[0] ?? '';
      return { text: c, tokenId: this.tokenId(first), probability: distribution.get(first) ?? 0 };
    });
    this.calls.push({ kind: 'probe', appended: '', images: 0, options: {}, probeCandidates: options.candidates ?? [] });
    return { top, candidates };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  #advance(): void {
    const step = this.options.script[this.#next++];
    const value = typeof step === 'function' ? step(this.#transcript) : step;
    this.#segment = value === undefined ? null : typeof value === 'string' ? { text: value } : value;
    this.#plan = this.#segment ? this.#tokenize(this.#segment.text) : [];
  }

  #distribution(): Map<string, number> {
    const next = this.#plan[0] ?? '</s>';
    if (this.#segment?.probs) return new Map(Object.entries(this.#segment.probs));
    const p = this.#segment?.confidence ?? 0.95;
    return new Map([
      [next, p],
      ['<other>', 1 - p],
    ]);
  }

  async #generate(kind: 'start' | 'continue', appended: string, images: number, options: GenerateOptions): Promise<GenerationResult> {
    const { onToken, signal, ...rest } = options;
    const maxTokens = options.maxTokens ?? 512;
    const stops = options.stop ?? [];
    let text = '';
    let count = 0;
    let stoppedBy: GenerationResult['stoppedBy'] = 'eos';
    let stopString: string | null = null;
    for (;;) {
      if (count >= maxTokens) {
        stoppedBy = 'limit';
        break;
      }
      const token = this.#plan[0];
      if (token === undefined) break;
      if (this.options.yieldBetweenTokens ?? true) await new Promise((r) => setImmediate(r));
      this.options.beforeToken?.(text, this);
      // As the engines do: an aborted generation returns what it wrote so far (the transcript keeps it).
      if (signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      this.#plan.shift();
      text += token;
      this.#transcript += token;
      count++;
      try {
        onToken?.({ text: token, tokenId: this.tokenId(token), probability: 1, topAlternatives: [] });
      } catch {
        // A failing consumer never stops the generation (as the port promises).
      }
      const hit = stops.find((s) => text.endsWith(s));
      if (hit) {
        stoppedBy = 'stop';
        stopString = hit;
        break;
      }
    }
    const result: GenerationResult = {
      text,
      stoppedBy,
      stopString,
      promptTokens: this.#tokenize(appended).length + images * 16 + (kind === 'continue' ? 1 : 0),
      cachedTokens: 0,
      generatedTokens: count,
      timings: { promptMs: 0, generateMs: 0 },
    };
    this.calls.push({ kind, appended, images, options: rest, result });
    return result;
  }
}
