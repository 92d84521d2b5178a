import { basename } from 'node:path';
import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { Llama, LlamaGpuType, LlamaLogLevel } from 'node-llama-cpp';
import type { GpuInfo, LogLevel } from '../../../shared/contract';
import { engineErrorFromNative } from '../engineErrors';

export type EngineLogSink = (level: LogLevel, text: string) => void;

/** node-llama-cpp is a large ESM package: imported on first need, so the engine process starts fast. */
const nodeLlamaCpp = (): Promise<typeof NodeLlamaCpp> => import('node-llama-cpp');

function fromLlamaLevel(level: LlamaLogLevel): LogLevel {
  if (level === 'fatal' || level === 'error') return 'error';
  if (level === 'warn') return 'warn';
  if (level === 'info') return 'info';
  return 'debug';
}

export interface NodeLlamaCppRuntimeOptions {
  /** Level at which node-llama-cpp's native log reaches `log`. Defaults to 'warn'. */
  logLevel?: LogLevel;
  log?: EngineLogSink;
}

/**
 * One node-llama-cpp `Llama` per process, created on first need (it takes seconds to load its binding), on the GPU
 * backend detected once. Also answers GPU detection and "as many layers as fit" for llama.node.
 */
export class NodeLlamaCppRuntime {
  #llama: Promise<Llama> | null = null;
  #gpu: Promise<{ info: GpuInfo; type: LlamaGpuType; llama: Llama | null }> | null = null;

  constructor(private readonly options: NodeLlamaCppRuntimeOptions = {}) {}

  /** The GPU the engine can use (CUDA / Metal / Vulkan), or the CPU. */
  gpu(): Promise<GpuInfo> {
    return this.#detect().then((g) => g.info);
  }

  #detect(): Promise<{ info: GpuInfo; type: LlamaGpuType; llama: Llama | null }> {
    this.#gpu ??= (async () => {
      const cpu = {
        info: { backend: 'cpu', deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 } as GpuInfo,
        type: false as LlamaGpuType,
        llama: null,
      };
      // "supported" lists the GPU builds this platform can run; without one there is no need to load a binding.
      const { getLlamaGpuTypes } = await nodeLlamaCpp();
      const types = (await getLlamaGpuTypes('supported').catch(() => [false as const])).filter((t) => t !== false);
      for (const type of types) {
        try {
          const llama = await this.#create(type);
          if (llama.gpu === false) continue;
          const vram = await llama.getVramState();
          return {
            type: llama.gpu,
            llama,
            info: {
              backend: llama.gpu,
              deviceNames: await llama.getGpuDeviceNames().catch(() => []),
              vramTotalBytes: vram.total,
              vramFreeBytes: vram.free,
            },
          };
        } catch {
          // Try the next backend; the CPU is always there.
        }
      }
      return cpu;
    })();
    return this.#gpu;
  }

  async #create(gpu: LlamaGpuType): Promise<Llama> {
    const log = this.options.log;
    const { getLlama, LlamaLogLevel } = await nodeLlamaCpp();
    return getLlama({
      build: 'never',
      gpu,
      progressLogs: false,
      logLevel: LlamaLogLevel[this.options.logLevel ?? 'warn'],
      logger: (level, message) => log?.(fromLlamaLevel(level), message.trimEnd()),
    });
  }

  llama(): Promise<Llama> {
    this.#llama ??= this.#detect().then((g) => g.llama ?? this.#create(g.type));
    return this.#llama;
  }

  /** GPU layers for `path` when the user chose "as many as fit": all on a GPU with room, none on the CPU. */
  async autoGpuLayers(path: string, contextSize: number): Promise<number> {
    const gpu = await this.#detect();
    if (gpu.info.backend === 'cpu') return 0;
    try {
      const llama = await this.llama();
      const { GgufInsights, readGgufFileInfo } = await nodeLlamaCpp();
      const insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
      const resolved = await insights.configurationResolver.resolveModelGpuLayersV2({ fitContext: { contextSize } });
      return resolved.gpuLayers;
    } catch (error) {
      throw engineErrorFromNative(error, 'MODEL_LOAD_FAILED', `${basename(path)}: GPU layers could not be resolved`);
    }
  }

  /** The llama.node native build matching the detected GPU. */
  async llamaNodeVariant(): Promise<'default' | 'cuda' | 'vulkan'> {
    const gpu = await this.#detect();
    return gpu.info.backend === 'cuda' || gpu.info.backend === 'vulkan' ? gpu.info.backend : 'default';
  }

  async dispose(): Promise<void> {
    const llama = this.#llama;
    this.#llama = null;
    if (llama) await (await llama.catch(() => null))?.dispose();
  }
}
