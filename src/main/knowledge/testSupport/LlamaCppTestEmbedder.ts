import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Llama, LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';
import type { Embedder, ModelIdentity } from '../../engine/ports';
import { CancelledError } from '../../errors/AppError';

/**
 * A real Embedder over node-llama-cpp for tests and benchmarks of the knowledge service (the app uses the engine's
 * adapter, in its supervised child process). CPU only, `threads` defaults to 2.
 */
export class LlamaCppTestEmbedder implements Embedder {
  private constructor(
    readonly model: ModelIdentity,
    readonly dimensions: number,
    private readonly llama: Llama,
    private readonly loaded: LlamaModel,
    private readonly context: LlamaEmbeddingContext,
    private readonly maxTokens: number,
  ) {}

  static async load(modelPath: string, options: { threads?: number } = {}): Promise<LlamaCppTestEmbedder> {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const bytes = await readFile(modelPath);
    const identity: ModelIdentity = {
      path: modelPath,
      name: basename(modelPath),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: (await stat(modelPath)).size,
    };
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath });
    const contextSize = Math.min(512, model.trainContextSize);
    const context = await model.createEmbeddingContext({ threads: options.threads ?? 2, contextSize });
    const probe = await context.getEmbeddingFor('probe');
    return new LlamaCppTestEmbedder(identity, probe.vector.length, llama, model, context, contextSize);
  }

  async embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const text of texts) {
      if (options?.signal?.aborted) throw new CancelledError('embedding');
      // Leave room for the BOS/EOS tokens the context adds; longer texts are cut (the model reads their start).
      const tokens = this.loaded.tokenize(text).slice(0, this.maxTokens - 8);
      const embedding = await this.context.getEmbeddingFor(tokens);
      out.push(Float32Array.from(embedding.vector));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.loaded.dispose();
    await this.llama.dispose();
  }
}
