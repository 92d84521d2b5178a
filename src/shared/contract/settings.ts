export type RetrievalMode = 'lexical' | 'vector' | 'hybrid';
export type ReasoningMode = 'direct' | 'rwr' | 'rwr+cdir';
export type ConfidenceSource = 'first-token' | 'option-mass';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface ModelPaths {
  /** GGUF of the multimodal reasoner (the language model). */
  reasoner: string | null;
  /** GGUF of the vision projector (mmproj) that goes with the reasoner. */
  mmproj: string | null;
  /** GGUF text-embedding model for vector retrieval; null = lexical-only retrieval. */
  embedding: string | null;
  /** Optional GGUF reranker (cross-encoder) applied to retrieval candidates. */
  reranker: string | null;
}

export interface EngineSettings {
  /** CPU threads; null = the machine's physical cores. */
  threads: number | null;
  /** Layers offloaded to the GPU; 'auto' = as many as fit. */
  gpuLayers: number | 'auto';
  /** Whether the vision projector runs on the GPU (separate from the text model's layers). */
  mmprojOffload: boolean;
  /** Context window of the reasoner in tokens. */
  contextSize: number;
  /** Level at which native llama.cpp logging reaches the app log. */
  logLevel: LogLevel;
}

export interface RetrievalSettings {
  /** Passages returned per query. Defaults to 3 (as Med-RwR). */
  k: number;
  /** Maximum retrieval rounds per run. Defaults to 3 (as Med-RwR). */
  maxRounds: number;
  mode: RetrievalMode;
}

export interface ReasoningSettings {
  mode: ReasoningMode;
  /** Answer probability below which CDIR re-reasons with a similar case. Defaults to 0.9. */
  cdirThreshold: number;
  confidenceSource: ConfidenceSource;
  maxTokens: number;
  /** 0 = greedy (reproducible). */
  temperature: number;
  seed: number;
  /** Constrain decoding to the protocol grammar (useful for small models). */
  grammarConstrained: boolean;
  /**
   * Under the grammar: most characters of thought per reasoning step, after which the model must query or answer.
   * Defaults to 2000. (Records from before it existed replay with their unbounded thought.)
   */
  grammarThinkChars?: number;
  /** Under the grammar: most characters of one knowledge query. Defaults to 300. */
  grammarQueryChars?: number;
  /**
   * Under the grammar: after a retrieval the loop writes the `<think>` the grammar would force next, so those tokens
   * are the tokenizer's own and the next call reuses the KV cache past them. Defaults to true. (Records from before it
   * existed replay with the model writing it.)
   */
  grammarLoopOpensThought?: boolean;
}

export interface Settings {
  models: ModelPaths;
  engine: EngineSettings;
  retrieval: RetrievalSettings;
  reasoning: ReasoningSettings;
}

export type SettingsPatch = {
  [K in keyof Settings]?: Partial<Settings[K]>;
};
