import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { EngineError } from '../engineErrors';
import type {
  ChatMessage,
  Embedder,
  GeneratedToken,
  GenerateOptions,
  GenerationResult,
  ModelIdentity,
  ModelImageInput,
  NextTokenProbe,
  Reasoner,
  ReasonerSession,
  Reranker,
} from '../ports';
import { describeFiles, type EngineSupervisor } from './EngineSupervisor';
import type { AuxiliaryLoadParams, ReasonerLoadParams, ReasonerLoadResult, SessionResult, WireGenerateOptions } from './protocol';

function wireOptions(options: GenerateOptions = {}): WireGenerateOptions {
  const { signal: _signal, onToken, ...rest } = options;
  return { ...rest, stream: onToken !== undefined };
}

function deliver(onToken: ((token: GeneratedToken) => void) | undefined): ((tokens: GeneratedToken[]) => void) | undefined {
  if (!onToken) return undefined;
  return (tokens) => {
    for (const token of tokens) {
      try {
        onToken(token);
      } catch {
        // A consumer's failure must not stop the generation.
      }
    }
  };
}

function stripTranscript(result: SessionResult): GenerationResult {
  const { transcript: _transcript, ...rest } = result;
  return rest;
}

/** The reasoner as the app sees it: every call crosses to the engine process. */
export class RemoteReasoner implements Reasoner {
  readonly hasVision: boolean;
  readonly mediaMarker: string;
  readonly contextSize: number;
  readonly gpuLayers: number;

  private constructor(
    private readonly supervisor: EngineSupervisor,
    readonly handle: string,
    readonly model: ModelIdentity,
    readonly projector: ModelIdentity | null,
    info: ReasonerLoadResult,
  ) {
    this.hasVision = info.hasVision;
    this.mediaMarker = info.mediaMarker;
    this.contextSize = info.contextSize;
    this.gpuLayers = info.gpuLayers;
  }

  static async load(supervisor: EngineSupervisor, params: Omit<ReasonerLoadParams, 'handle'>): Promise<RemoteReasoner> {
    const handle = `reasoner-${randomUUID()}`;
    const full: ReasonerLoadParams = { ...params, handle };
    const doing = params.projector
      ? `loading ${basename(params.model.path)} with the vision projector ${basename(params.projector.path)}`
      : `loading ${basename(params.model.path)}`;
    const info = await supervisor.call('reasoner.load', full, { doing });
    supervisor.remember(handle, 'reasoner.load', full, describeFiles(params.model.path, params.projector?.path));
    return new RemoteReasoner(supervisor, handle, params.model, params.projector, info);
  }

  /** @internal "generating with x.gguf + y.gguf", for crash reports. */
  get files(): string {
    return describeFiles(this.model.path, this.projector?.path);
  }

  async createSession(): Promise<ReasonerSession> {
    const session = randomUUID();
    await this.supervisor.call('session.create', { handle: this.handle, session }, { doing: `opening a session on ${this.files}` });
    return new RemoteSession(this.supervisor, this, session, this.supervisor.generation);
  }

  /** The native guard's counters (transient retries, recreated contexts). */
  guard(): Promise<{ retries: number; recoveries: number }> {
    return this.supervisor.call('reasoner.guard', { handle: this.handle });
  }

  async dispose(): Promise<void> {
    this.supervisor.forget(this.handle);
    await this.supervisor.call('reasoner.unload', { handle: this.handle }, { doing: `unloading ${this.files}` }).catch(() => undefined);
  }
}

class RemoteSession implements ReasonerSession {
  #transcript = '';

  constructor(
    private readonly supervisor: EngineSupervisor,
    private readonly reasoner: RemoteReasoner,
    private readonly id: string,
    private readonly generation: number,
  ) {}

  get transcript(): string {
    return this.#transcript;
  }

  #alive(): void {
    if (this.supervisor.generation !== this.generation) {
      throw new EngineError(
        'ENGINE_CRASHED',
        `the engine process restarted after a crash while serving ${this.reasoner.files}; this session's transcript is gone — start a new one`,
      );
    }
  }

  async start(messages: ChatMessage[], options?: GenerateOptions): Promise<GenerationResult> {
    this.#alive();
    const result = await this.supervisor.call(
      'session.start',
      { session: this.id, messages, options: wireOptions(options) },
      { ...(options?.signal ? { signal: options.signal } : {}), onTokens: deliver(options?.onToken), doing: `generating with ${this.reasoner.files}` },
    );
    this.#transcript = result.transcript;
    return stripTranscript(result);
  }

  async continue(appended: string, options: GenerateOptions & { images?: ModelImageInput[] } = {}): Promise<GenerationResult> {
    this.#alive();
    const { images, ...generate } = options;
    const result = await this.supervisor.call(
      'session.continue',
      { session: this.id, appended, images: images ?? [], options: wireOptions(generate) },
      { ...(options.signal ? { signal: options.signal } : {}), onTokens: deliver(options.onToken), doing: `generating with ${this.reasoner.files}` },
    );
    this.#transcript = result.transcript;
    return stripTranscript(result);
  }

  async probeNextToken(options: { appended?: string; candidates?: string[]; top?: number; signal?: AbortSignal } = {}): Promise<NextTokenProbe> {
    this.#alive();
    const { signal, ...rest } = options;
    return this.supervisor.call('session.probe', { session: this.id, ...rest }, { ...(signal ? { signal } : {}), doing: `probing ${this.reasoner.files}` });
  }

  async rewind(length: number): Promise<void> {
    this.#alive();
    const { transcript } = await this.supervisor.call('session.rewind', { session: this.id, length });
    this.#transcript = transcript;
  }

  async dispose(): Promise<void> {
    if (this.supervisor.generation !== this.generation) return;
    await this.supervisor.call('session.dispose', { session: this.id }).catch(() => undefined);
  }
}

export class RemoteEmbedder implements Embedder {
  private constructor(
    private readonly supervisor: EngineSupervisor,
    readonly handle: string,
    readonly model: ModelIdentity,
    readonly dimensions: number,
  ) {}

  static async load(supervisor: EngineSupervisor, params: Omit<AuxiliaryLoadParams, 'handle'>): Promise<RemoteEmbedder> {
    const handle = `embedder-${randomUUID()}`;
    const full = { ...params, handle };
    const { dimensions } = await supervisor.call('embedder.load', full, { doing: `loading the embedding model ${basename(params.model.path)}` });
    supervisor.remember(handle, 'embedder.load', full, basename(params.model.path));
    return new RemoteEmbedder(supervisor, handle, params.model, dimensions);
  }

  embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    return this.supervisor.call(
      'embedder.embed',
      { handle: this.handle, texts },
      { ...(options.signal ? { signal: options.signal } : {}), doing: `embedding with ${basename(this.model.path)}` },
    );
  }

  async dispose(): Promise<void> {
    this.supervisor.forget(this.handle);
    await this.supervisor.call('embedder.unload', { handle: this.handle }).catch(() => undefined);
  }
}

export class RemoteReranker implements Reranker {
  private constructor(
    private readonly supervisor: EngineSupervisor,
    readonly handle: string,
    readonly model: ModelIdentity,
  ) {}

  static async load(supervisor: EngineSupervisor, params: Omit<AuxiliaryLoadParams, 'handle'>): Promise<RemoteReranker> {
    const handle = `reranker-${randomUUID()}`;
    const full = { ...params, handle };
    await supervisor.call('reranker.load', full, { doing: `loading the reranker ${basename(params.model.path)}` });
    supervisor.remember(handle, 'reranker.load', full, basename(params.model.path));
    return new RemoteReranker(supervisor, handle, params.model);
  }

  rank(query: string, documents: string[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    return this.supervisor.call(
      'reranker.rank',
      { handle: this.handle, query, documents },
      { ...(options.signal ? { signal: options.signal } : {}), doing: `reranking with ${basename(this.model.path)}` },
    );
  }

  async dispose(): Promise<void> {
    this.supervisor.forget(this.handle);
    await this.supervisor.call('reranker.unload', { handle: this.handle }).catch(() => undefined);
  }
}
