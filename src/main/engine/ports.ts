/**
 * The engine's ports: what the rest of the app may ask of a model runtime. Adapters (llama.node for the reasoner,
 * node-llama-cpp for embeddings) live behind these, in a supervised child process; an adapter can be swapped
 * without touching reasoning or knowledge code.
 */

/** Identity of a model file as recorded in the audit: a change of any field is a different model. */
export interface ModelIdentity {
  path: string;
  name: string;
  sha256: string;
  sizeBytes: number;
}

/** An image for the model: a file path (PNG/JPEG) or PNG bytes. */
export type ModelImageInput = { path: string } | { png: Uint8Array };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Images attached to this message; each becomes one media marker placed before the text. */
  images?: ModelImageInput[];
}

export interface TokenAlternative {
  tokenId: number;
  text: string;
  probability: number;
}

/** One generated token as the sampler reported it. */
export interface GeneratedToken {
  text: string;
  tokenId: number;
  /** Post-sampling probability (1 under greedy decoding). Not a confidence: see `probeNextToken`. */
  probability: number | null;
  topAlternatives: TokenAlternative[];
}

export interface GenerateOptions {
  /** Generation ends when one of these strings is produced; the stop string is included in `text`. */
  stop?: string[];
  /** Defaults to 512. */
  maxTokens?: number;
  /** Defaults to 0 (greedy, reproducible). */
  temperature?: number;
  /** Defaults to 1. */
  topP?: number;
  /** Defaults to 42. */
  seed?: number;
  /** GBNF grammar constraining the output. */
  grammar?: string;
  /** Alternatives reported per token. Defaults to 0. */
  topAlternatives?: number;
  signal?: AbortSignal;
  /** Called once per token, in order; a throwing callback never stops the generation. */
  onToken?: (token: GeneratedToken) => void;
}

export interface GenerationResult {
  /** The generated text (including the stop string when one ended it). */
  text: string;
  stoppedBy: 'stop' | 'eos' | 'limit' | 'abort';
  stopString: string | null;
  /** Tokens evaluated for the prompt in this call (new tokens only, images included). */
  promptTokens: number;
  /** Prompt tokens served from the KV cache in this call. */
  cachedTokens: number;
  generatedTokens: number;
  timings: { promptMs: number; generateMs: number };
}

/** The next-token distribution at the end of the transcript, from the model's full softmax (temperature 1). */
export interface NextTokenProbe {
  top: TokenAlternative[];
  /** Probability of the first token of each candidate string (for option-mass confidence), when asked for. */
  candidates: { text: string; tokenId: number; probability: number }[];
}

/**
 * One conversation with the reasoner, whose transcript only grows: `start` prefills the chat prompt and generates;
 * `continue` appends text (and optionally images) and generates again, so only the new tokens are prefilled.
 */
export interface ReasonerSession {
  start(messages: ChatMessage[], options?: GenerateOptions): Promise<GenerationResult>;
  /** `images`: one per media marker (`Reasoner.mediaMarker`) in `appended`, in order. */
  continue(appended: string, options?: GenerateOptions & { images?: ModelImageInput[] }): Promise<GenerationResult>;
  /**
   * The model's own next-token distribution after `prefix` — the transcript so far plus optional text — independent
   * of the sampling settings used to generate. The transcript is not changed.
   */
  probeNextToken(options?: { appended?: string; candidates?: string[]; top?: number; signal?: AbortSignal }): Promise<NextTokenProbe>;
  /** Everything the model has read and written so far, as text (media as markers). */
  readonly transcript: string;
  /**
   * Optional: cuts the transcript back to its first `length` characters — a length it had between two calls — and
   * keeps the KV cache up to there. CDIR uses it to re-reason from before the uncertain answer, as Med-RwR does;
   * without it the re-retrieval turn is appended after that answer.
   */
  rewind?(length: number): Promise<void>;
  dispose(): Promise<void>;
}

export interface Reasoner {
  readonly model: ModelIdentity;
  readonly projector: ModelIdentity | null;
  /** Whether images can be passed (a vision projector is loaded). */
  readonly hasVision: boolean;
  /** The marker the chat template uses for an image inside text (e.g. "<__media__>"). */
  readonly mediaMarker: string;
  createSession(): Promise<ReasonerSession>;
  dispose(): Promise<void>;
}

export interface Embedder {
  readonly model: ModelIdentity;
  readonly dimensions: number;
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export interface Reranker {
  readonly model: ModelIdentity;
  /** Relevance of each document to the query, in the documents' order (higher = more relevant). */
  rank(query: string, documents: string[], options?: { signal?: AbortSignal }): Promise<number[]>;
  dispose(): Promise<void>;
}
