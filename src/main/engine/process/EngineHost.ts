import { toErrorPayload } from '../../errors/AppError';
import { AppError } from '../../errors/AppError';
import { EngineError } from '../engineErrors';
import { LlamaNodeReasoner, removeImageFiles } from '../llama/LlamaNodeReasoner';
import { llamaNode } from '../llama/llamaNode';
import { NodeLlamaCppEmbedder } from '../nodeLlamaCpp/NodeLlamaCppEmbedder';
import { NodeLlamaCppReranker } from '../nodeLlamaCpp/NodeLlamaCppReranker';
import { NodeLlamaCppRuntime } from '../nodeLlamaCpp/runtime';
import type { ReasonerSession } from '../ports';
import type { ChildMessage, EngineMethod, EngineMethods, ParentMessage, WireError } from './protocol';
import { TokenBatcher } from './TokenBatcher';

type Handler<M extends EngineMethod> = (
  params: EngineMethods[M]['params'],
  call: { signal: AbortSignal; batcher: TokenBatcher },
) => Promise<EngineMethods[M]['result']>;

function toWire(error: unknown): WireError {
  const { code, message } = toErrorPayload(error);
  const details = error instanceof AppError && error.details ? { ...error.details } : undefined;
  return details ? { code, message, details } : { code, message };
}

/**
 * The engine process's side of the protocol: owns the model runtimes (llama.node reasoners, node-llama-cpp
 * embedders and rerankers) and answers requests. It also runs in-process (benchmarks compare both).
 */
export class EngineHost {
  readonly #reasoners = new Map<string, LlamaNodeReasoner>();
  readonly #sessions = new Map<string, ReasonerSession>();
  readonly #embedders = new Map<string, NodeLlamaCppEmbedder>();
  readonly #rerankers = new Map<string, NodeLlamaCppReranker>();
  readonly #inFlight = new Map<number, AbortController>();
  #runtime: NodeLlamaCppRuntime;

  constructor(private readonly send: (message: ChildMessage) => void) {
    this.#runtime = this.#createRuntime('warn');
  }

  #createRuntime(logLevel: 'error' | 'warn' | 'info' | 'debug'): NodeLlamaCppRuntime {
    return new NodeLlamaCppRuntime({ logLevel, log: (level, text) => this.send({ kind: 'log', level, text }) });
  }

  handle(message: ParentMessage): void {
    if (message.kind === 'abort') {
      this.#inFlight.get(message.id)?.abort();
      return;
    }
    const { id, method, params } = message;
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    const batcher = new TokenBatcher((tokens) => this.send({ kind: 'tokens', id, tokens }));
    const handler = this.#handlers[method] as Handler<EngineMethod> | undefined;
    const work = handler
      ? handler(params as never, { signal: controller.signal, batcher })
      : Promise.reject(new AppError('INVALID_INPUT', `engine request: expected a known method, found "${method}"`));
    work.then(
      (result) => {
        batcher.flush();
        this.#inFlight.delete(id);
        this.send({ kind: 'response', id, ok: true, result });
      },
      (error: unknown) => {
        batcher.flush();
        this.#inFlight.delete(id);
        this.send({ kind: 'response', id, ok: false, error: toWire(error) });
      },
    );
  }

  #reasoner(handle: string): LlamaNodeReasoner {
    const reasoner = this.#reasoners.get(handle);
    if (!reasoner) throw new EngineError('ENGINE_DISPOSED', `expected a loaded reasoner "${handle}", found none`);
    return reasoner;
  }

  #session(id: string): ReasonerSession {
    const session = this.#sessions.get(id);
    if (!session) throw new EngineError('ENGINE_DISPOSED', `expected an open reasoner session, found none (it was disposed or the engine restarted)`);
    return session;
  }

  readonly #handlers: { [M in EngineMethod]: Handler<M> } = {
    hello: async ({ logLevel }) => {
      this.#runtime = this.#createRuntime(logLevel);
      return { pid: process.pid, llamaNodeBuild: `${llamaNode().BuildInfo.number}-${llamaNode().BuildInfo.commit}` };
    },
    gpu: async () => this.#runtime.gpu(),
    'reasoner.load': async (p) => {
      const gpuLayers = p.gpuLayers === 'auto' ? await this.#runtime.autoGpuLayers(p.model.path, p.contextSize) : p.gpuLayers;
      const reasoner = await LlamaNodeReasoner.load({
        model: p.model,
        projector: p.projector,
        contextSize: p.contextSize,
        threads: p.threads,
        gpuLayers,
        mmprojOffload: p.mmprojOffload,
        libVariant: gpuLayers > 0 ? await this.#runtime.llamaNodeVariant() : 'default',
      });
      this.#reasoners.set(p.handle, reasoner);
      return { hasVision: reasoner.hasVision, mediaMarker: reasoner.mediaMarker, contextSize: reasoner.contextSize, gpuLayers };
    },
    'reasoner.unload': async ({ handle }) => {
      const reasoner = this.#reasoners.get(handle);
      this.#reasoners.delete(handle);
      await reasoner?.dispose();
      return null;
    },
    'reasoner.guard': async ({ handle }) => this.#reasoner(handle).guard,
    'session.create': async ({ handle, session }) => {
      this.#sessions.set(session, await this.#reasoner(handle).createSession());
      return null;
    },
    'session.start': async ({ session, messages, options }, { signal, batcher }) => {
      const s = this.#session(session);
      const result = await s.start(messages, { ...options, signal, ...(options.stream ? { onToken: (t) => batcher.push(t) } : {}) });
      return { ...result, transcript: s.transcript };
    },
    'session.continue': async ({ session, appended, images, options }, { signal, batcher }) => {
      const s = this.#session(session);
      const result = await s.continue(appended, {
        ...options,
        images,
        signal,
        ...(options.stream ? { onToken: (t) => batcher.push(t) } : {}),
      });
      return { ...result, transcript: s.transcript };
    },
    'session.probe': async ({ session, ...options }, { signal }) => this.#session(session).probeNextToken({ ...options, signal }),
    'session.rewind': async ({ session, length }) => {
      const s = this.#session(session);
      await s.rewind!(length);
      return { transcript: s.transcript };
    },
    'session.dispose': async ({ session }) => {
      await this.#sessions.get(session)?.dispose();
      this.#sessions.delete(session);
      return null;
    },
    'embedder.load': async (p) => {
      const gpuLayers = p.gpuLayers === 'auto' ? await this.#runtime.autoGpuLayers(p.model.path, p.contextSize ?? 2048) : p.gpuLayers;
      const embedder = await NodeLlamaCppEmbedder.load(this.#runtime, {
        model: p.model,
        threads: p.threads,
        gpuLayers,
        ...(p.contextSize ? { contextSize: p.contextSize } : {}),
      });
      this.#embedders.set(p.handle, embedder);
      return { dimensions: embedder.dimensions };
    },
    'embedder.embed': async ({ handle, texts }, { signal }) => {
      const embedder = this.#embedders.get(handle);
      if (!embedder) throw new EngineError('ENGINE_DISPOSED', 'expected a loaded embedding model, found none');
      return embedder.embed(texts, { signal });
    },
    'embedder.unload': async ({ handle }) => {
      const embedder = this.#embedders.get(handle);
      this.#embedders.delete(handle);
      await embedder?.dispose();
      return null;
    },
    'reranker.load': async (p) => {
      const gpuLayers = p.gpuLayers === 'auto' ? await this.#runtime.autoGpuLayers(p.model.path, p.contextSize ?? 2048) : p.gpuLayers;
      this.#rerankers.set(
        p.handle,
        await NodeLlamaCppReranker.load(this.#runtime, { model: p.model, threads: p.threads, gpuLayers, ...(p.contextSize ? { contextSize: p.contextSize } : {}) }),
      );
      return null;
    },
    'reranker.rank': async ({ handle, query, documents }, { signal }) => {
      const reranker = this.#rerankers.get(handle);
      if (!reranker) throw new EngineError('ENGINE_DISPOSED', 'expected a loaded reranker, found none');
      return reranker.rank(query, documents, { signal });
    },
    'reranker.unload': async ({ handle }) => {
      const reranker = this.#rerankers.get(handle);
      this.#rerankers.delete(handle);
      await reranker?.dispose();
      return null;
    },
  };

  async dispose(): Promise<void> {
    for (const controller of this.#inFlight.values()) controller.abort();
    for (const r of this.#reasoners.values()) await r.dispose().catch(() => undefined);
    for (const e of this.#embedders.values()) await e.dispose().catch(() => undefined);
    for (const r of this.#rerankers.values()) await r.dispose().catch(() => undefined);
    await this.#runtime.dispose();
    removeImageFiles();
  }
}
