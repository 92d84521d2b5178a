import { createRequire } from 'node:module';
import type {
  ChatMessage as LlamaChatMessage,
  GGUFModelInfo,
  JinjaFormattedChatResult,
  LlamaCompletionOptions,
  LlamaCompletionResult,
  LlamaCompletionToken,
  LlamaModelOptions,
  ModelInfo,
  TokenizeResult,
} from '@fugood/llama.node/lib/binding';

export type { LlamaChatMessage, LlamaCompletionOptions, LlamaCompletionResult, LlamaCompletionToken, LlamaModelOptions, TokenizeResult };

/**
 * The part of @fugood/llama.node's context wrapper the engine uses. The package ships its TypeScript sources, whose
 * index does not compile under this project's strict settings, so the module is loaded at run time and typed here
 * (the types come from its `lib/binding`, which does compile).
 */
export interface LlamaNodeContext {
  /** The native context (the wrapper's chat formatting re-reads all model metadata on every call: ~4 ms). */
  ctx: {
    getFormattedChat(
      messages: LlamaChatMessage[],
      template?: string,
      params?: { jinja?: boolean; add_generation_prompt?: boolean },
    ): JinjaFormattedChatResult | string;
  };
  getModelInfo(): ModelInfo;
  getSystemInfo(): string;
  getFormattedChat(
    messages: LlamaChatMessage[],
    template?: string,
    params?: { jinja?: boolean; add_generation_prompt?: boolean },
  ): ({ type: 'jinja' } & JinjaFormattedChatResult & { has_media: boolean }) | { type: 'llama-chat'; prompt: string; has_media: boolean };
  completion(options: LlamaCompletionOptions, callback?: (token: LlamaCompletionToken) => void): Promise<LlamaCompletionResult>;
  stopCompletion(): void;
  tokenize(text: string, options?: { media_paths?: string[] }): Promise<TokenizeResult>;
  detokenize(tokens: number[]): Promise<string>;
  embedding(text: string, params?: { embd_normalize?: number }): Promise<{ embedding: Float32Array }>;
  initMultimodal(options: { path: string; use_gpu?: boolean }): boolean;
  isMultimodalEnabled(): boolean;
  getMultimodalSupport(): { vision: boolean; audio: boolean };
  releaseMultimodal(): void;
  clearCache(clearData?: boolean): void;
  release(): Promise<void>;
}

export interface LlamaNodeModule {
  loadModel(options: LlamaModelOptions & { lib_variant?: 'default' | 'vulkan' | 'cuda' }, onProgress?: (p: number) => void): Promise<LlamaNodeContext>;
  loadLlamaModelInfo(path: string): Promise<GGUFModelInfo>;
  getBackendDevicesInfo(variant?: 'default' | 'vulkan' | 'cuda'): Promise<{ backend: string; type: string; deviceName: string; maxMemorySize: number }[]>;
  isLibVariantAvailable(variant?: 'default' | 'vulkan' | 'cuda'): Promise<boolean>;
  BuildInfo: { number: string; commit: string };
}

let cached: LlamaNodeModule | null = null;

/** Loads @fugood/llama.node (its native addon loads on the first model). */
export function llamaNode(): LlamaNodeModule {
  cached ??= createRequire(import.meta.url)('@fugood/llama.node') as LlamaNodeModule;
  return cached;
}
