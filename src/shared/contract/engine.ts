export type ModelRole = 'reasoner' | 'mmproj' | 'embedding' | 'reranker';

/** What GGUF inspection learned about a file, before any native code loads it. */
export interface ModelInspection {
  path: string;
  sizeBytes: number;
  sha256: string | null;
  architecture: string;
  name: string | null;
  parameterCount: number | null;
  quantization: string | null;
  contextLength: number | null;
  embeddingLength: number | null;
  hasChatTemplate: boolean;
  isVisionProjector: boolean;
  projectorType: string | null;
  /** For a vision projector: the width of the embeddings it produces, which must equal the reasoner's embeddingLength. */
  outputLength: number | null;
  /** A cross-encoder with a classification head (tensor `cls.weight` / `cls.output.weight`): loadable as the reranker only. */
  isReranker: boolean;
  /** Problems found by validation; empty = loadable. */
  problems: string[];
}

export interface GpuInfo {
  backend: 'cuda' | 'metal' | 'vulkan' | 'cpu';
  deviceNames: string[];
  vramTotalBytes: number;
  vramFreeBytes: number;
}

export type ModelState = 'unloaded' | 'loading' | 'ready' | 'failed';

export interface LoadedModelStatus {
  role: ModelRole;
  state: ModelState;
  path: string | null;
  sha256: string | null;
  /** Present when state is 'failed'. */
  error: { code: string; message: string } | null;
}

export interface EngineStatus {
  gpu: GpuInfo | null;
  threads: number;
  /** Whether the engine child process is up; it restarts by itself after a crash. */
  processAlive: boolean;
  restarts: number;
  reasoner: LoadedModelStatus;
  embedding: LoadedModelStatus;
  reranker: LoadedModelStatus;
  visionReady: boolean;
}
