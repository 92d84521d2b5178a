import { basename } from 'node:path';
import type { LlamaEmbeddingContext, LlamaModel, Token } from 'node-llama-cpp';
import { throwIfAborted } from '../../errors/AppError';
import { engineErrorFromNative } from '../engineErrors';
import type { Embedder, ModelIdentity } from '../ports';
import { physicalCores } from '../system/machine';
import type { NodeLlamaCppRuntime } from './runtime';

export interface EmbedderOptions {
  model: ModelIdentity;
  /** Tokens per text; longer texts are truncated (as sentence-transformers do). Defaults to min(train context, 2048). */
  contextSize?: number;
  /** Defaults to the physical cores. */
  threads?: number;
  /** Defaults to 0. */
  gpuLayers?: number;
}

/**
 * Text embeddings on node-llama-cpp (any GGUF with pooling: bert-style encoders or pooled decoders). Vectors are
 * L2-normalised, so cosine similarity is a dot product; texts longer than the context are truncated.
 */
export class NodeLlamaCppEmbedder implements Embedder {
  private constructor(
    readonly model: ModelIdentity,
    readonly dimensions: number,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaEmbeddingContext,
    private readonly maxTokens: number,
  ) {}

  static async load(runtime: NodeLlamaCppRuntime, options: EmbedderOptions): Promise<NodeLlamaCppEmbedder> {
    const what = `${basename(options.model.path)} could not be loaded as an embedding model`;
    try {
      const llama = await runtime.llama();
      const model = await llama.loadModel({ modelPath: options.model.path, gpuLayers: options.gpuLayers ?? 0 });
      const contextSize = Math.min(options.contextSize ?? 2048, model.trainContextSize || 2048);
      const context = await model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads: options.threads ?? physicalCores() });
      return new NodeLlamaCppEmbedder(options.model, model.embeddingVectorSize, model, context, contextSize - 2);
    } catch (error) {
      throw engineErrorFromNative(error, 'MODEL_LOAD_FAILED', what);
    }
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (const text of texts) {
      throwIfAborted(options.signal, 'embedding');
      let tokens: Token[] = this.llamaModel.tokenize(text);
      if (tokens.length > this.maxTokens) tokens = tokens.slice(0, this.maxTokens);
      const embedding = await this.context.getEmbeddingFor(tokens);
      const vector = Float32Array.from(embedding.vector);
      let norm = 0;
      for (const v of vector) norm += v * v;
      norm = Math.sqrt(norm);
      if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
      vectors.push(vector);
    }
    return vectors;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.llamaModel.dispose();
  }
}
