import { basename, join } from 'node:path';
import type {
  EngineStatus,
  GpuInfo,
  LoadedModelStatus,
  LogLevel,
  ModelInspection,
  ModelRole,
  Settings,
} from '../../shared/contract';
import { toErrorPayload } from '../errors/AppError';
import { EngineError } from './engineErrors';
import { EngineLog } from './EngineLog';
import { assertLoadable, inspectModel, type InspectedModel } from './inspect/inspectModel';
import { MemoryHashStore, Sha256Cache, type HashStore } from './inspect/Sha256Cache';
import { projectorMismatch } from './inspect/validateGguf';
import type { Embedder, ModelIdentity, Reasoner, Reranker } from './ports';
import { EngineSupervisor, type EngineCrash, type EngineSpawner } from './process/EngineSupervisor';
import { nodeEngineSpawner } from './process/nodeSpawner';
import { RemoteEmbedder, RemoteReasoner, RemoteReranker } from './process/remote';
import { availableMemoryBytes, physicalCores } from './system/machine';

export interface EngineServiceDeps {
  settings: { get(): Settings };
  /** Receives `engine.status` whenever a model or the engine process changes state. */
  emitStatus?: (status: EngineStatus) => void;
  /** Directory of `engine.log` (native llama.cpp output at the level chosen in settings). */
  logDir: string;
  /** Where model hashes are kept between starts. Defaults to memory. */
  hashes?: HashStore;
  /** How the engine process is started. Defaults to child_process.fork of the engine entry (plain Node). */
  spawner?: EngineSpawner;
  /** Free memory probe for the pre-load check. Defaults to MemAvailable / os.freemem(). */
  availableMemory?: () => number;
  /** Called for each engine-process crash (the audit keeps them). */
  onCrash?: (crash: EngineCrash) => void;
}

type Role = 'reasoner' | 'embedding' | 'reranker';

const unloaded = (role: ModelRole): LoadedModelStatus => ({ role, state: 'unloaded', path: null, sha256: null, error: null });

const GiB = 1024 ** 3;
const formatBytes = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);

/** KV cache + weights a language model needs in RAM for `contextSize` tokens on the CPU (f16 cache). */
export function estimateModelMemory(model: InspectedModel, contextSize: number): number {
  const file = model.file;
  const arch = model.text?.architecture ?? '';
  const number = (key: string): number | null => {
    const v = file.metadata.get(`${arch}.${key}`);
    return v && typeof v.value === 'number' ? v.value : null;
  };
  const embedding = model.text?.embeddingLength ?? 0;
  const heads = number('attention.head_count') ?? 1;
  const kvHeads = number('attention.head_count_kv') ?? heads;
  const layers = model.text?.blockCount ?? 0;
  const kv = 2 * layers * contextSize * ((embedding * kvHeads) / heads) * 2;
  return file.sizeBytes + kv + 64 * 1024 ** 2;
}

/**
 * The model engine as the rest of the app uses it: loads the models chosen in settings (each validated by GGUF
 * inspection and hashed for the audit before any native code sees it), runs them in a supervised engine process,
 * and hands out the `Reasoner` / `Embedder` / `Reranker` ports. A failed load leaves the previous model serving.
 */
export class EngineService {
  readonly #deps: EngineServiceDeps;
  readonly #supervisor: EngineSupervisor;
  readonly #hashes: Sha256Cache;
  readonly #log: EngineLog;
  #reasoner: RemoteReasoner | null = null;
  #embedder: RemoteEmbedder | null = null;
  #reranker: RemoteReranker | null = null;
  readonly #status: Record<Role, LoadedModelStatus> = {
    reasoner: unloaded('reasoner'),
    embedding: unloaded('embedding'),
    reranker: unloaded('reranker'),
  };
  #gpu: GpuInfo | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<() => void>();

  constructor(deps: EngineServiceDeps) {
    this.#deps = deps;
    this.#hashes = new Sha256Cache(deps.hashes ?? new MemoryHashStore());
    this.#log = new EngineLog(join(deps.logDir, 'engine.log'));
    const level = (): LogLevel => deps.settings.get().engine.logLevel;
    this.#supervisor = new EngineSupervisor({
      spawner: deps.spawner ?? nodeEngineSpawner(),
      logLevel: level,
      // The supervisor already filtered by level.
      log: (lvl, text) => this.#log.write(lvl, text),
      onCrash: (crash) => deps.onCrash?.(crash),
      onChange: () => this.#emit(),
    });
  }

  /** The loaded reasoner, or null. After a failed reload it is the previous, still working, model. */
  reasoner(): Reasoner | null {
    return this.#reasoner;
  }

  embedder(): Embedder | null {
    return this.#embedder;
  }

  reranker(): Reranker | null {
    return this.#reranker;
  }

  /** The engine process's supervisor (crash history, restarts). */
  get supervisor(): EngineSupervisor {
    return this.#supervisor;
  }

  /** Path of the engine log file. */
  get logPath(): string {
    return this.#log.path;
  }

  status(): EngineStatus {
    const { engine } = this.#deps.settings.get();
    return {
      gpu: this.#gpu,
      threads: engine.threads ?? physicalCores(),
      processAlive: this.#supervisor.alive,
      restarts: this.#supervisor.restarts,
      reasoner: { ...this.#status.reasoner },
      embedding: { ...this.#status.embedding },
      reranker: { ...this.#status.reranker },
      visionReady: this.#reasoner?.hasVision ?? false,
    };
  }

  /** The service's own lines in the engine log, at the level chosen in settings. */
  #note(level: LogLevel, text: string): void {
    const order: LogLevel[] = ['error', 'warn', 'info', 'debug'];
    if (order.indexOf(level) <= order.indexOf(this.#deps.settings.get().engine.logLevel)) this.#log.write(level, text);
  }

  #emit(): void {
    this.#deps.emitStatus?.(this.status());
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // A consumer's failure must not break model loading.
      }
    }
  }

  /** Called whenever a model or the engine process changes state (e.g. to hand the new embedder to retrieval). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads and validates a GGUF file without loading it; unreadable files throw typed errors. */
  async inspect(path: string): Promise<ModelInspection> {
    return (await inspectModel(path, { hashes: this.#hashes })).inspection;
  }

  /** Asks the engine process which GPU it can use (CUDA / Metal / Vulkan) and how much VRAM is free. */
  async detectGpu(): Promise<GpuInfo> {
    this.#gpu = await this.#supervisor.call('gpu', {}, { doing: 'detecting the GPU' });
    this.#emit();
    return this.#gpu;
  }

  /** Loads the models configured in settings for `roles` (all when omitted); one role that fails throws its error. */
  load(roles?: ModelRole[]): Promise<EngineStatus> {
    return this.#serial(async () => {
      const wanted = this.#roles(roles);
      // Layers and the memory check depend on the GPU: ask the engine process once, before the first load.
      if (!this.#gpu && wanted.some((r) => this.#pathOf(r) !== null)) await this.detectGpu().catch(() => undefined);
      let failure: unknown = null;
      for (const role of wanted) {
        try {
          await this.#loadRole(role);
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure) throw failure;
      return this.status();
    });
  }

  unload(roles?: ModelRole[]): Promise<EngineStatus> {
    return this.#serial(async () => {
      for (const role of this.#roles(roles)) await this.#unloadRole(role);
      return this.status();
    });
  }

  #roles(roles: ModelRole[] | undefined): Role[] {
    const all: Role[] = ['reasoner', 'embedding', 'reranker'];
    if (!roles || roles.length === 0) return all;
    return all.filter((r) => roles.includes(r) || (r === 'reasoner' && roles.includes('mmproj')));
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #validated(path: string, role: ModelRole): Promise<InspectedModel> {
    const model = await inspectModel(path);
    assertLoadable(model, role);
    return model;
  }

  /** The file's identity for the audit; hashed after every check passed (hashing a 5 GB file takes a while). */
  async #identity(model: InspectedModel): Promise<ModelIdentity> {
    const { path } = model.inspection;
    const sha256 = await this.#hashes.hash(path);
    return { path, name: model.inspection.name ?? basename(path), sha256, sizeBytes: model.inspection.sizeBytes };
  }

  #checkMemory(what: string, need: number, gpuLayers: number | 'auto'): void {
    // Offloaded layers live in VRAM, which node-llama-cpp sizes when resolving "auto"; the check is for CPU loads.
    if (gpuLayers !== 0 && this.#gpu && this.#gpu.backend !== 'cpu') return;
    const available = (this.#deps.availableMemory ?? availableMemoryBytes)();
    if (need > available) {
      throw new EngineError(
        'ENGINE_OUT_OF_MEMORY',
        `${what}: expected about ${formatBytes(need)} of free memory to load it, found ${formatBytes(available)} available — choose a smaller (more quantized) model or a shorter context`,
        { details: { needBytes: need, availableBytes: available } },
      );
    }
  }

  #pathOf(role: Role): string | null {
    const { models } = this.#deps.settings.get();
    return role === 'reasoner' ? models.reasoner : role === 'embedding' ? models.embedding : models.reranker;
  }

  async #loadRole(role: Role): Promise<void> {
    const { models, engine } = this.#deps.settings.get();
    const path = this.#pathOf(role);
    if (!path) {
      await this.#unloadRole(role);
      return;
    }
    const previous = this.#status[role];
    this.#status[role] = { role, state: 'loading', path, sha256: null, error: null };
    this.#emit();
    const threads = engine.threads ?? physicalCores();
    try {
      const model = await this.#validated(path, role);
      let identity: ModelIdentity;
      if (role === 'reasoner') {
        let projector: ModelIdentity | null = null;
        let projectorModel: InspectedModel | null = null;
        if (models.mmproj) {
          projectorModel = await this.#validated(models.mmproj, 'mmproj');
          const mismatch = projectorMismatch(model.inspection.embeddingLength, projectorModel.inspection.outputLength);
          if (mismatch) {
            throw new EngineError('MMPROJ_MISMATCH', `${basename(models.mmproj)} does not match ${basename(path)}: ${mismatch}`, {
              details: { model: path, mmproj: models.mmproj },
            });
          }
        }
        const need = estimateModelMemory(model, engine.contextSize) + (projectorModel?.inspection.sizeBytes ?? 0);
        this.#checkMemory(basename(path), need, engine.gpuLayers);
        identity = await this.#identity(model);
        if (projectorModel) projector = await this.#identity(projectorModel);
        const reasoner = await RemoteReasoner.load(this.#supervisor, {
          model: identity,
          projector,
          contextSize: engine.contextSize,
          threads,
          gpuLayers: engine.gpuLayers,
          mmprojOffload: engine.mmprojOffload,
        });
        const old = this.#reasoner;
        this.#reasoner = reasoner;
        await old?.dispose();
      } else {
        this.#checkMemory(basename(path), estimateModelMemory(model, 2048), engine.gpuLayers);
        identity = await this.#identity(model);
        const params = { model: identity, threads, gpuLayers: engine.gpuLayers };
        if (role === 'embedding') {
          const embedder = await RemoteEmbedder.load(this.#supervisor, params);
          const old = this.#embedder;
          this.#embedder = embedder;
          await old?.dispose();
        } else {
          const reranker = await RemoteReranker.load(this.#supervisor, params);
          const old = this.#reranker;
          this.#reranker = reranker;
          await old?.dispose();
        }
      }
      this.#status[role] = { role, state: 'ready', path, sha256: identity.sha256, error: null };
      this.#note('info', `loaded ${role} ${path} (sha256 ${identity.sha256})`);
    } catch (error) {
      const payload = toErrorPayload(error);
      const serving = role === 'reasoner' ? this.#reasoner : role === 'embedding' ? this.#embedder : this.#reranker;
      // The previous model keeps serving: the status says so, with the failed attempt's error.
      this.#status[role] = serving
        ? { role, state: 'ready', path: previous.path, sha256: previous.sha256, error: payload }
        : { role, state: 'failed', path, sha256: null, error: payload };
      this.#note('error', `could not load ${role} ${path}: ${payload.code}: ${payload.message}`);
      throw error;
    } finally {
      this.#emit();
    }
  }

  async #unloadRole(role: Role): Promise<void> {
    if (role === 'reasoner') {
      const old = this.#reasoner;
      this.#reasoner = null;
      await old?.dispose();
    } else if (role === 'embedding') {
      const old = this.#embedder;
      this.#embedder = null;
      await old?.dispose();
    } else {
      const old = this.#reranker;
      this.#reranker = null;
      await old?.dispose();
    }
    this.#status[role] = unloaded(role);
    this.#emit();
  }

  async dispose(): Promise<void> {
    await this.#supervisor.dispose();
    await this.#log.close();
  }
}
