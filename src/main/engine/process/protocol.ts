/**
 * The typed message protocol between the app and its engine process. Requests carry an id; the engine answers
 * each with exactly one response, and may stream batches of tokens for it before. An abort message stops a request.
 */
import type { GpuInfo, LogLevel } from '../../../shared/contract';
import type {
  ChatMessage,
  GeneratedToken,
  GenerateOptions,
  GenerationResult,
  ModelIdentity,
  ModelImageInput,
  NextTokenProbe,
} from '../ports';

/** Generation options that cross the boundary (no signal, no callback: those stay on the app's side). */
export type WireGenerateOptions = Omit<GenerateOptions, 'signal' | 'onToken'> & { stream?: boolean };

export interface ReasonerLoadParams {
  handle: string;
  model: ModelIdentity;
  projector: ModelIdentity | null;
  contextSize: number;
  threads: number;
  gpuLayers: number | 'auto';
  mmprojOffload: boolean;
}

export interface ReasonerLoadResult {
  hasVision: boolean;
  mediaMarker: string;
  contextSize: number;
  gpuLayers: number;
}

export interface AuxiliaryLoadParams {
  handle: string;
  model: ModelIdentity;
  threads: number;
  gpuLayers: number | 'auto';
  contextSize?: number;
}

export type SessionResult = GenerationResult & { transcript: string };

export interface EngineMethods {
  hello: { params: { logLevel: LogLevel }; result: { pid: number; llamaNodeBuild: string } };
  gpu: { params: Record<string, never>; result: GpuInfo };
  'reasoner.load': { params: ReasonerLoadParams; result: ReasonerLoadResult };
  'reasoner.unload': { params: { handle: string }; result: null };
  'reasoner.guard': { params: { handle: string }; result: { retries: number; recoveries: number } };
  'session.create': { params: { handle: string; session: string }; result: null };
  'session.start': { params: { session: string; messages: ChatMessage[]; options: WireGenerateOptions }; result: SessionResult };
  'session.continue': {
    params: { session: string; appended: string; images: ModelImageInput[]; options: WireGenerateOptions };
    result: SessionResult;
  };
  'session.probe': {
    params: { session: string; appended?: string; candidates?: string[]; top?: number };
    result: NextTokenProbe;
  };
  'session.rewind': { params: { session: string; length: number }; result: { transcript: string } };
  'session.dispose': { params: { session: string }; result: null };
  'embedder.load': { params: AuxiliaryLoadParams; result: { dimensions: number } };
  'embedder.embed': { params: { handle: string; texts: string[] }; result: Float32Array[] };
  'embedder.unload': { params: { handle: string }; result: null };
  'reranker.load': { params: AuxiliaryLoadParams; result: null };
  'reranker.rank': { params: { handle: string; query: string; documents: string[] }; result: number[] };
  'reranker.unload': { params: { handle: string }; result: null };
}

export type EngineMethod = keyof EngineMethods;

export type ParentMessage =
  | { kind: 'request'; id: number; method: EngineMethod; params: unknown }
  | { kind: 'abort'; id: number };

export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type ChildMessage =
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: WireError }
  | { kind: 'tokens'; id: number; tokens: GeneratedToken[] }
  | { kind: 'log'; level: LogLevel; text: string };
