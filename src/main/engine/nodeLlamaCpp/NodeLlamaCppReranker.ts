import { basename } from 'node:path';
import type { LlamaModel, LlamaRankingContext } from 'node-llama-cpp';
import { throwIfAborted } from '../../errors/AppError';
import { engineErrorFromNative } from '../engineErrors';
import type { ModelIdentity, Reranker } from '../ports';
import { physicalCores } from '../system/machine';
import type { NodeLlamaCppRuntime } from './runtime';

/** A cross-encoder reranker (GGUF with a ranking head) on node-llama-cpp's ranking context. */
export class NodeLlamaCppReranker implements Reranker {
  private constructor(
    readonly model: ModelIdentity,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaRankingContext,
  ) {}

  static async load(
    runtime: NodeLlamaCppRuntime,
    options: { model: ModelIdentity; contextSize?: number; threads?: number; gpuLayers?: number },
  ): Promise<NodeLlamaCppReranker> {
    try {
      const llama = await runtime.llama();
      const model = await llama.loadModel({ modelPath: options.model.path, gpuLayers: options.gpuLayers ?? 0 });
      const context = await model.createRankingContext({
        contextSize: Math.min(options.contextSize ?? 2048, model.trainContextSize || 2048),
        threads: options.threads ?? physicalCores(),
      });
      return new NodeLlamaCppReranker(options.model, model, context);
    } catch (error) {
      throw engineErrorFromNative(error, 'MODEL_LOAD_FAILED', `${basename(options.model.path)} could not be loaded as a reranker`);
    }
  }

  async rank(query: string, documents: string[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    throwIfAborted(options.signal, 'reranking');
    return this.context.rankAll(query, documents);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.llamaModel.dispose();
  }
}
