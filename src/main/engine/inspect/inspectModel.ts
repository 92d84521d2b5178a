import { basename } from 'node:path';
import type { ModelInspection, ModelRole } from '../../../shared/contract';
import { EngineError } from '../engineErrors';
import { ggmlTypes, GgufValueType, llamaFileTypes } from '../gguf/ggufFormat';
import { metadataNumber, metadataString, readGguf, type GgufFile } from '../gguf/readGguf';
import type { Sha256Cache } from './Sha256Cache';
import { validateProjector, validateTextModel, type ProjectorFacts, type TextModelFacts } from './validateGguf';

export interface InspectedModel {
  inspection: ModelInspection;
  file: GgufFile;
  text: TextModelFacts | null;
  projector: ProjectorFacts | null;
}

function quantizationOf(file: GgufFile): string | null {
  const fileType = metadataNumber(file, 'general.file_type');
  if (fileType !== null && llamaFileTypes[fileType]) return llamaFileTypes[fileType];
  const bytesByType = new Map<number, number>();
  for (const t of file.tensors) bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + (t.byteSize ?? 0));
  const [dominant] = [...bytesByType].sort((a, b) => b[1] - a[1])[0] ?? [];
  return dominant === undefined ? null : (ggmlTypes[dominant]?.name ?? `ggml type ${dominant}`);
}

/**
 * Reads a GGUF file's header, metadata and tensor table (never its weights) and validates it as a language model or
 * a vision projector. Unreadable files throw (MODEL_NOT_FOUND, MODEL_NOT_GGUF, MODEL_TRUNCATED, MODEL_INVALID);
 * readable ones with problems come back with `problems` filled.
 */
export async function inspectModel(path: string, options: { hashes?: Sha256Cache } = {}): Promise<InspectedModel> {
  const file = await readGguf(path);
  const isVisionProjector = metadataString(file, 'general.architecture') === 'clip' || [...file.metadata.keys()].some((k) => k.startsWith('clip.'));
  const text = isVisionProjector ? null : validateTextModel(file);
  const projector = isVisionProjector ? validateProjector(file) : null;
  const template = file.metadata.get('tokenizer.chat_template');
  const inspection: ModelInspection = {
    path,
    sizeBytes: file.sizeBytes,
    sha256: options.hashes ? await options.hashes.hash(path) : null,
    architecture: metadataString(file, 'general.architecture') ?? (isVisionProjector ? 'clip' : 'unknown'),
    name: metadataString(file, 'general.name'),
    parameterCount: file.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0),
    quantization: quantizationOf(file),
    contextLength: text?.facts.contextLength ?? null,
    embeddingLength: text?.facts.embeddingLength ?? null,
    hasChatTemplate: template?.type === GgufValueType.STRING && template.value.length > 0,
    isVisionProjector,
    projectorType: projector?.facts.projectorType ?? null,
    outputLength: projector?.facts.outputLength ?? null,
    isReranker: (text?.facts.rankingHead.length ?? 0) > 0,
    problems: (text ?? projector)!.problems,
  };
  return { inspection, file, text: text?.facts ?? null, projector: projector?.facts ?? null };
}

/** Refuses a file that cannot serve in `role`, naming every problem found. */
export function assertLoadable(model: InspectedModel, role: ModelRole): void {
  const name = basename(model.inspection.path);
  const refuse = (message: string, details: Record<string, unknown> = {}): never => {
    throw new EngineError('MODEL_INVALID', message, { details: { path: model.inspection.path, role, ...details } });
  };
  const wantsProjector = role === 'mmproj';
  if (wantsProjector !== model.inspection.isVisionProjector) {
    refuse(
      wantsProjector
        ? `${name}: expected a vision projector (mmproj, architecture "clip"), found a ${model.inspection.architecture} language model`
        : `${name}: expected a language model for the ${role} role, found a vision projector (mmproj)`,
    );
  }
  if (model.inspection.problems.length > 0) {
    refuse(`${name} was refused before loading: ${model.inspection.problems.join('; ')}`, { problems: model.inspection.problems });
  }
  const text = model.text;
  if (!text) return;
  if (role === 'reranker') {
    if (text.rankingHead.length === 0) {
      refuse(
        `${name}: expected a reranker — a cross-encoder with a classification head (tensor "cls.weight" or "cls.output.weight") — found ${describeTextModel(model)} without one`,
      );
    }
    if (text.rankingJoin === null) {
      refuse(
        `${name}: expected a reranker that can join a query and a document (a separator or end-of-sequence token, or a "tokenizer.chat_template.rerank" template with {query} and {document}), found none`,
      );
    }
  } else if (text.rankingHead.length > 0) {
    // A cross-encoder scores a pair; it embeds nothing and generates nothing, and node-llama-cpp would load it anyway.
    refuse(
      `${name}: expected ${role === 'embedding' ? 'an embedding model' : 'a generative language model'} for the ${role} role, found a reranker (a ${model.inspection.architecture} cross-encoder with a classification head: ${text.rankingHead.join(', ')}) — choose it as the reranker`,
    );
  }
}

const poolingNames: Record<number, string> = { 0: 'none', 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' };

/** "a llama embedding model (pooling mean)", "a llama chat model", "a bert model (pooling cls)". */
function describeTextModel(model: InspectedModel): string {
  const architecture = model.inspection.architecture;
  const pooling = model.text?.poolingType ?? null;
  const poolingNote = pooling !== null ? ` (pooling ${poolingNames[pooling] ?? pooling})` : '';
  if (pooling !== null && pooling >= 1 && pooling <= 3) return `a ${architecture} embedding model${poolingNote}`;
  if (model.inspection.hasChatTemplate) return `a ${architecture} chat model${poolingNote}`;
  return `a ${architecture} model${poolingNote}`;
}
