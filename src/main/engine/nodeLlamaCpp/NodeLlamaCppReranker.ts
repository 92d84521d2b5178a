import { basename } from 'node:path';
import type { LlamaModel, LlamaRankingContext } from 'node-llama-cpp';
import { throwIfAborted } from '../../errors/AppError';
import { EngineError, engineErrorFromNative } from '../engineErrors';
import type { ModelIdentity, Reranker } from '../ports';
import { physicalCores } from '../system/machine';
import type { NodeLlamaCppRuntime } from './runtime';

export interface RerankerOptions {
  model: ModelIdentity;
  /** Tokens per query–document pair. Defaults to min(train context, 2048). */
  contextSize?: number;
  /** Defaults to the physical cores. */
  threads?: number;
  /** Defaults to 0. */
  gpuLayers?: number;
}

/**
 * A cross-encoder reranker (a GGUF with a classification head: BERT/XLM-R rerankers, Qwen3-reranker) on
 * node-llama-cpp's ranking context. Each score is the model's relevance probability for the pair (sigmoid of the
 * head's logit; Qwen3 rerankers' own softmax). A document longer than the context is scored by its best-scoring
 * window (half-overlapping chunks), so a long passage is never cut to its start nor refused.
 */
export class NodeLlamaCppReranker implements Reranker {
  private constructor(
    readonly model: ModelIdentity,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaRankingContext,
  ) {}

  static async load(runtime: NodeLlamaCppRuntime, options: RerankerOptions): Promise<NodeLlamaCppReranker> {
    try {
      const llama = await runtime.llama();
      const model = await llama.loadModel({ modelPath: options.model.path, gpuLayers: options.gpuLayers ?? 0 });
      const contextSize = Math.min(options.contextSize ?? 2048, model.trainContextSize || 2048);
      const context = await model.createRankingContext({
        contextSize,
        // Encoders attend in both directions: the whole pair must be one batch (llama.cpp asserts n_ubatch ≥ tokens
        // for non-causal attention; a split pair would score only its last part).
        batchSize: contextSize,
        threads: options.threads ?? physicalCores(),
      });
      return new NodeLlamaCppReranker(options.model, model, context);
    } catch (error) {
      throw engineErrorFromNative(error, 'MODEL_LOAD_FAILED', `${basename(options.model.path)} could not be loaded as a reranker`);
    }
  }

  async rank(query: string, documents: string[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    throwIfAborted(options.signal, 'reranking');
    if (documents.length === 0) return [];
    const name = basename(this.model.path);
    // The query is never chunked: it must leave room for at least one document token.
    const queryTokens = this.context.calculateInputLength(query, 'x');
    if (queryTokens >= this.context.contextSize) {
      throw new EngineError(
        'CONTEXT_OVERFLOW',
        `reranking with ${name}: expected a query that fits the reranker's context window of ${this.context.contextSize} tokens with room for a document, found ${queryTokens} tokens`,
        { details: { contextSize: this.context.contextSize, tokens: queryTokens } },
      );
    }
    const scores: number[] = [];
    for (const document of documents) {
      throwIfAborted(options.signal, 'reranking');
      let score: number;
      try {
        score = await this.context.rank(query, document, { onOverflow: 'maxChunk' });
      } catch (error) {
        throw engineErrorFromNative(error, 'GENERATION_FAILED', `reranking with ${name}`);
      }
      if (!Number.isFinite(score)) {
        throw new EngineError('GENERATION_FAILED', `reranking with ${name}: expected a finite relevance score, found ${score}`);
      }
      scores.push(score);
    }
    return scores;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.llamaModel.dispose();
  }
}
