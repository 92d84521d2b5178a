import { GgufValueType, ggufValueTypeName } from '../gguf/ggufFormat';
import type { GgufFile, GgufTensorInfo, GgufValue } from '../gguf/readGguf';

/**
 * Checks a GGUF file against what llama.cpp's loaders read from it, so that the files that would abort or crash the
 * native code (a key with the wrong scalar type, a missing projector tensor, a position table too small) are refused
 * with a named reason before any native code sees them. Each problem is one sentence: "<what>: expected X, found Y".
 */

/** Vision projector types whose full tensor set is checked; other types get the generic checks only. */
export const fullyValidatedProjectorTypes = ['mlp', 'gemma3'] as const;

type Expect = { type: GgufValueType; elementType?: GgufValueType; length?: number };

/** clip.cpp reads these with gguf_get_val_u32/f32/bool/arr, which GGML_ASSERT on the exact type. */
const clipKeyTypes: Record<string, Expect> = {
  'clip.has_vision_encoder': { type: GgufValueType.BOOL },
  'clip.has_text_encoder': { type: GgufValueType.BOOL },
  'clip.has_llava_projector': { type: GgufValueType.BOOL },
  'clip.use_gelu': { type: GgufValueType.BOOL },
  'clip.use_silu': { type: GgufValueType.BOOL },
  'clip.projector_type': { type: GgufValueType.STRING },
  'clip.vision.image_size': { type: GgufValueType.U32 },
  'clip.vision.patch_size': { type: GgufValueType.U32 },
  'clip.vision.embedding_length': { type: GgufValueType.U32 },
  'clip.vision.feed_forward_length': { type: GgufValueType.U32 },
  'clip.vision.block_count': { type: GgufValueType.U32 },
  'clip.vision.projection_dim': { type: GgufValueType.U32 },
  'clip.vision.attention.head_count': { type: GgufValueType.U32 },
  'clip.vision.attention.layer_norm_epsilon': { type: GgufValueType.F32 },
  'clip.vision.projector.scale_factor': { type: GgufValueType.U32 },
  'clip.vision.image_mean': { type: GgufValueType.ARRAY, elementType: GgufValueType.F32, length: 3 },
  'clip.vision.image_std': { type: GgufValueType.ARRAY, elementType: GgufValueType.F32, length: 3 },
};

const requiredVisionKeys = [
  'clip.has_vision_encoder',
  'clip.vision.image_size',
  'clip.vision.patch_size',
  'clip.vision.embedding_length',
  'clip.vision.feed_forward_length',
  'clip.vision.block_count',
  'clip.vision.attention.head_count',
  'clip.vision.attention.layer_norm_epsilon',
  'clip.vision.image_mean',
  'clip.vision.image_std',
];

const describeType = (value: GgufValue): string =>
  value.type === GgufValueType.ARRAY
    ? `ARRAY<${ggufValueTypeName(value.elementType)}>[${value.length}]`
    : ggufValueTypeName(value.type);

const describeExpected = (e: Expect): string =>
  e.type === GgufValueType.ARRAY ? `ARRAY<${ggufValueTypeName(e.elementType!)}>[${e.length}]` : ggufValueTypeName(e.type);

function checkKeyType(file: GgufFile, key: string, expected: Expect, problems: string[]): void {
  const value = file.metadata.get(key);
  if (!value) return;
  const ok =
    value.type === expected.type &&
    (expected.type !== GgufValueType.ARRAY ||
      (value.type === GgufValueType.ARRAY &&
        value.elementType === expected.elementType &&
        (expected.length === undefined || value.length === expected.length)));
  if (!ok) problems.push(`metadata "${key}": expected ${describeExpected(expected)}, found ${describeType(value)}`);
}

const u32 = (file: GgufFile, key: string): number | null => {
  const v = file.metadata.get(key);
  return v && v.type === GgufValueType.U32 ? Number(v.value) : null;
};

const tensorMap = (file: GgufFile): Map<string, GgufTensorInfo> => new Map(file.tensors.map((t) => [t.name, t]));

function requireTensor(
  tensors: Map<string, GgufTensorInfo>,
  name: string,
  dims: (number | null)[] | null,
  problems: string[],
): GgufTensorInfo | null {
  const tensor = tensors.get(name);
  if (!tensor) {
    problems.push(`tensor "${name}": expected it to be present${dims ? ` with shape [${dims.map((d) => d ?? '?').join(', ')}]` : ''}, found none`);
    return null;
  }
  if (dims) checkShape(tensor, dims, problems);
  return tensor;
}

function checkShape(tensor: GgufTensorInfo, dims: (number | null)[], problems: string[]): void {
  const matches = tensor.dims.length === dims.length && dims.every((d, i) => d === null || tensor.dims[i] === d);
  if (!matches) {
    problems.push(`tensor "${tensor.name}": expected shape [${dims.map((d) => d ?? '?').join(', ')}], found [${tensor.dims.join(', ')}]`);
  }
}

function optionalShape(tensors: Map<string, GgufTensorInfo>, name: string, dims: (number | null)[], problems: string[]): void {
  const tensor = tensors.get(name);
  if (tensor) checkShape(tensor, dims, problems);
}

export interface ProjectorFacts {
  projectorType: string | null;
  /** Width of the embeddings the projector hands to the language model; null when it cannot be read. */
  outputLength: number | null;
  /** Image positions per image at the native resolution, when known. */
  imageTokens: number | null;
}

/** Validates a vision projector (mmproj). Returns the problems and what was learned. */
export function validateProjector(file: GgufFile): { problems: string[]; facts: ProjectorFacts } {
  const problems: string[] = [];
  for (const [key, expected] of Object.entries(clipKeyTypes)) checkKeyType(file, key, expected, problems);
  const typeValue = file.metadata.get('clip.projector_type');
  const projectorType = typeValue?.type === GgufValueType.STRING ? typeValue.value : null;
  const facts: ProjectorFacts = { projectorType, outputLength: null, imageTokens: null };
  if (!typeValue) problems.push('metadata "clip.projector_type": expected a STRING naming the projector (e.g. "mlp"), found none');

  const hasVision = file.metadata.get('clip.has_vision_encoder');
  if (!hasVision) {
    problems.push('metadata "clip.has_vision_encoder": expected BOOL true, found none — this file has no vision encoder');
  } else if (hasVision.type === GgufValueType.BOOL && !hasVision.value) {
    problems.push('metadata "clip.has_vision_encoder": expected true, found false — this file has no vision encoder');
  }
  for (const key of requiredVisionKeys) {
    if (key !== 'clip.has_vision_encoder' && !file.metadata.has(key)) problems.push(`metadata "${key}": expected it to be present, found none`);
  }

  const imageSize = u32(file, 'clip.vision.image_size');
  const patch = u32(file, 'clip.vision.patch_size');
  const e = u32(file, 'clip.vision.embedding_length');
  const ff = u32(file, 'clip.vision.feed_forward_length');
  const blocks = u32(file, 'clip.vision.block_count');
  const heads = u32(file, 'clip.vision.attention.head_count');
  if (imageSize !== null && patch !== null && (patch === 0 || imageSize % patch !== 0)) {
    problems.push(`metadata "clip.vision.image_size": expected a multiple of the patch size ${patch}, found ${imageSize}`);
  }
  if (e !== null && heads !== null && (heads === 0 || e % heads !== 0)) {
    problems.push(`metadata "clip.vision.attention.head_count": expected a divisor of the embedding length ${e}, found ${heads}`);
  }

  const tensors = tensorMap(file);
  const patchesPerSide = imageSize !== null && patch ? imageSize / patch : null;
  const patches = patchesPerSide !== null && Number.isInteger(patchesPerSide) ? patchesPerSide ** 2 : null;

  // The tower every supported projector shares: patch embedding, positions, transformer blocks.
  requireTensor(tensors, 'v.patch_embd.weight', [patch, patch, 3, e], problems);
  optionalShape(tensors, 'v.patch_embd.bias', [e], problems);
  const hasClass = tensors.has('v.class_embd');
  if (hasClass) optionalShape(tensors, 'v.class_embd', [e], problems);
  const position = requireTensor(tensors, 'v.position_embd.weight', [e, null], problems);
  if (position && patches !== null) {
    const needed = patches + (hasClass ? 1 : 0);
    if ((position.dims[1] ?? 0) < needed) {
      problems.push(
        `tensor "v.position_embd.weight": expected ${needed} positions ((${imageSize}/${patch})²${hasClass ? ' + 1 class' : ''}), found ${position.dims[1]} — the image encoder would abort`,
      );
    }
  }
  for (const norm of ['v.pre_ln', 'v.post_ln']) {
    optionalShape(tensors, `${norm}.weight`, [e], problems);
    optionalShape(tensors, `${norm}.bias`, [e], problems);
  }

  const known = projectorType === 'mlp' || projectorType === 'gemma3';
  if (blocks !== null && known) {
    // The llava graph runs block_count − 1 blocks (penultimate-layer features); gemma3's ViT runs them all.
    const running = projectorType === 'mlp' ? Math.max(0, blocks - 1) : blocks;
    for (let i = 0; i < blocks; i++) {
      const b = `v.blk.${i}`;
      requireTensor(tensors, `${b}.attn_out.weight`, [e, e], problems);
      requireTensor(tensors, `${b}.ffn_up.weight`, [e, ff], problems);
      requireTensor(tensors, `${b}.ffn_down.weight`, [ff, e], problems);
      for (const name of ['attn_q', 'attn_k', 'attn_v']) {
        if (i < running) requireTensor(tensors, `${b}.${name}.weight`, [e, e], problems);
        else optionalShape(tensors, `${b}.${name}.weight`, [e, e], problems);
        optionalShape(tensors, `${b}.${name}.bias`, [e], problems);
      }
      optionalShape(tensors, `${b}.attn_out.bias`, [e], problems);
      optionalShape(tensors, `${b}.ffn_up.bias`, [ff], problems);
      optionalShape(tensors, `${b}.ffn_down.bias`, [e], problems);
      for (const ln of ['ln1', 'ln2']) {
        optionalShape(tensors, `${b}.${ln}.weight`, [e], problems);
        optionalShape(tensors, `${b}.${ln}.bias`, [e], problems);
      }
    }
  }

  if (projectorType === 'mlp') {
    if (!file.metadata.has('clip.vision.projection_dim')) {
      problems.push('metadata "clip.vision.projection_dim": expected it to be present (U32), found none');
    }
    const mm0 = requireTensor(tensors, 'mm.0.weight', [e, null], problems);
    const hidden = mm0?.dims[1] ?? null;
    requireTensor(tensors, 'mm.0.bias', [hidden], problems);
    const mm2 = requireTensor(tensors, 'mm.2.weight', [hidden, null], problems);
    facts.outputLength = mm2?.dims[1] ?? null;
    requireTensor(tensors, 'mm.2.bias', [facts.outputLength], problems);
    facts.imageTokens = patches;
  } else if (projectorType === 'gemma3') {
    requireTensor(tensors, 'mm.soft_emb_norm.weight', [e], problems);
    const projection = requireTensor(tensors, 'mm.input_projection.weight', [null, e], problems);
    facts.outputLength = projection?.dims[0] ?? null;
    const scale = u32(file, 'clip.vision.projector.scale_factor') ?? 4;
    if (patchesPerSide !== null && (scale === 0 || patchesPerSide % scale !== 0)) {
      problems.push(`metadata "clip.vision.projector.scale_factor": expected a divisor of ${patchesPerSide} patches per side, found ${scale}`);
    } else if (patchesPerSide !== null) {
      facts.imageTokens = (patchesPerSide / scale) ** 2;
    }
  }
  return { problems, facts };
}

export interface TextModelFacts {
  architecture: string | null;
  embeddingLength: number | null;
  contextLength: number | null;
  blockCount: number | null;
  vocabularySize: number | null;
  poolingType: number | null;
  /**
   * A classification head over the pooled sequence (`cls.weight` and/or `cls.output.weight`): what makes a
   * cross-encoder a reranker for llama.cpp's rank pooling and node-llama-cpp's ranking context.
   */
  rankingHead: string[];
  /**
   * How a query and a document are joined for ranking: a rerank template (`tokenizer.chat_template.rerank`), else a
   * separator or end-of-sequence token between them; null when the file has none (ranking is not possible).
   */
  rankingJoin: 'template' | 'separator' | null;
}

/** Validates a language model (reasoner, embedding model or reranker). */
export function validateTextModel(file: GgufFile): { problems: string[]; facts: TextModelFacts } {
  const problems: string[] = [];
  const arch = file.metadata.get('general.architecture');
  const architecture = arch?.type === GgufValueType.STRING ? arch.value : null;
  if (!arch) problems.push('metadata "general.architecture": expected a STRING (e.g. "llama"), found none');
  else if (arch.type !== GgufValueType.STRING) problems.push(`metadata "general.architecture": expected STRING, found ${describeType(arch)}`);
  const facts: TextModelFacts = {
    architecture,
    embeddingLength: null,
    contextLength: null,
    blockCount: null,
    vocabularySize: null,
    poolingType: null,
    rankingHead: [],
    rankingJoin: null,
  };
  if (architecture === 'clip') {
    problems.push('general.architecture: expected a language model, found "clip" — this is a vision projector (mmproj); choose it as the projector');
    return { problems, facts };
  }
  if (!architecture) return { problems, facts };

  const integer = (key: string, required: boolean): number | null => {
    const v = file.metadata.get(key);
    if (!v) {
      if (required) problems.push(`metadata "${key}": expected an unsigned integer, found none`);
      return null;
    }
    if (v.type === GgufValueType.ARRAY || v.type === GgufValueType.STRING || v.type === GgufValueType.BOOL || v.type === GgufValueType.F32 || v.type === GgufValueType.F64) {
      problems.push(`metadata "${key}": expected an integer, found ${describeType(v)}`);
      return null;
    }
    return Number(v.value);
  };
  facts.embeddingLength = integer(`${architecture}.embedding_length`, true);
  facts.blockCount = integer(`${architecture}.block_count`, true);
  facts.contextLength = integer(`${architecture}.context_length`, false);
  facts.poolingType = integer(`${architecture}.pooling_type`, false);

  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (!file.metadata.has('tokenizer.ggml.model')) problems.push('metadata "tokenizer.ggml.model": expected a STRING naming the tokenizer, found none');
  if (!tokens) problems.push('metadata "tokenizer.ggml.tokens": expected the vocabulary (ARRAY<STRING>), found none');
  else if (tokens.type !== GgufValueType.ARRAY || tokens.elementType !== GgufValueType.STRING) {
    problems.push(`metadata "tokenizer.ggml.tokens": expected ARRAY<STRING>, found ${describeType(tokens)}`);
  } else {
    facts.vocabularySize = tokens.length;
  }
  const tensors = tensorMap(file);
  const embedding = tensors.get('token_embd.weight');
  if (!embedding) problems.push('tensor "token_embd.weight": expected the token embedding table, found none');
  else if (facts.embeddingLength !== null) {
    checkShape(embedding, [facts.embeddingLength, facts.vocabularySize], problems);
  }
  if (facts.blockCount !== null && facts.blockCount > 0 && !file.tensors.some((t) => t.name.startsWith('blk.'))) {
    problems.push(`tensors "blk.*": expected ${facts.blockCount} transformer blocks, found none`);
  }
  facts.rankingHead = rankingHeadTensors.filter((name) => tensors.has(name));
  facts.rankingJoin = rankingJoin(file, facts.vocabularySize);
  return { problems, facts };
}

/** The classification-head tensors node-llama-cpp's `supportsRanking` looks for. */
export const rankingHeadTensors = ['cls.weight', 'cls.output.weight'] as const;

/**
 * Mirrors node-llama-cpp 3.22's ranking input: a valid `tokenizer.chat_template.rerank` ({query} and {document}), or
 * `bos query eos sep document eos` with whichever of eos/sep exist — the tokenizer's defaults included (llama.cpp
 * gives "bert" vocabularies separator 102 and no eos, "llama" eos 2, most others eos 2 or 11).
 */
function rankingJoin(file: GgufFile, vocabularySize: number | null): 'template' | 'separator' | null {
  const template = file.metadata.get('tokenizer.chat_template.rerank');
  if (template?.type === GgufValueType.STRING && /\{query\}/.test(template.value) && /\{document\}/.test(template.value)) {
    return 'template';
  }
  const inVocabulary = (id: number | null): boolean => id !== null && (vocabularySize === null || id < vocabularySize);
  const id = (key: string): number | null => {
    const v = file.metadata.get(key);
    return v && typeof v.value === 'number' ? v.value : null;
  };
  const model = file.metadata.get('tokenizer.ggml.model');
  const tokenizer = model?.type === GgufValueType.STRING ? model.value : null;
  const separator = id('tokenizer.ggml.seperator_token_id') ?? (tokenizer === 'bert' ? 102 : null);
  const defaultEos = tokenizer === 'bert' || tokenizer === 'no_vocab' || tokenizer === 'none' || tokenizer === 'rwkv' ? null : tokenizer === 'gpt2' ? 11 : 2;
  const explicitEos = id('tokenizer.ggml.eos_token_id');
  const eos = inVocabulary(explicitEos) ? explicitEos : defaultEos;
  return inVocabulary(separator) || inVocabulary(eos) ? 'separator' : null;
}

/** The pairing check that makes initMultimodal fail: the projector's output must be the language model's width. */
export function projectorMismatch(textEmbeddingLength: number | null, projectorOutputLength: number | null): string | null {
  if (textEmbeddingLength === null || projectorOutputLength === null) return null;
  return textEmbeddingLength === projectorOutputLength
    ? null
    : `expected a vision projector whose output width equals the language model's embedding length ${textEmbeddingLength}, found ${projectorOutputLength}`;
}
