/**
 * The GGUF v3 container as llama.cpp reads it (ggml/src/gguf.cpp): little-endian, typed key/value metadata, a tensor
 * table whose shapes are in ggml order (ne[0] = the contiguous dimension), and 32-byte aligned tensor data.
 */

export const GGUF_MAGIC = 'GGUF';
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf_type). */
export enum GgufValueType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

export const ggufValueTypeName = (type: number): string => GgufValueType[type] ?? `unknown type ${type}`;

/** Tensor element types (ggml_type) with their block layout: `blockBytes` bytes hold `blockSize` elements. */
export const ggmlTypes: Record<number, { name: string; blockSize: number; blockBytes: number }> = {
  0: { name: 'F32', blockSize: 1, blockBytes: 4 },
  1: { name: 'F16', blockSize: 1, blockBytes: 2 },
  2: { name: 'Q4_0', blockSize: 32, blockBytes: 18 },
  3: { name: 'Q4_1', blockSize: 32, blockBytes: 20 },
  6: { name: 'Q5_0', blockSize: 32, blockBytes: 22 },
  7: { name: 'Q5_1', blockSize: 32, blockBytes: 24 },
  8: { name: 'Q8_0', blockSize: 32, blockBytes: 34 },
  9: { name: 'Q8_1', blockSize: 32, blockBytes: 36 },
  10: { name: 'Q2_K', blockSize: 256, blockBytes: 84 },
  11: { name: 'Q3_K', blockSize: 256, blockBytes: 110 },
  12: { name: 'Q4_K', blockSize: 256, blockBytes: 144 },
  13: { name: 'Q5_K', blockSize: 256, blockBytes: 176 },
  14: { name: 'Q6_K', blockSize: 256, blockBytes: 210 },
  15: { name: 'Q8_K', blockSize: 256, blockBytes: 292 },
  16: { name: 'IQ2_XXS', blockSize: 256, blockBytes: 66 },
  17: { name: 'IQ2_XS', blockSize: 256, blockBytes: 74 },
  18: { name: 'IQ3_XXS', blockSize: 256, blockBytes: 98 },
  19: { name: 'IQ1_S', blockSize: 256, blockBytes: 50 },
  20: { name: 'IQ4_NL', blockSize: 32, blockBytes: 18 },
  21: { name: 'IQ3_S', blockSize: 256, blockBytes: 110 },
  22: { name: 'IQ2_S', blockSize: 256, blockBytes: 82 },
  23: { name: 'IQ4_XS', blockSize: 256, blockBytes: 136 },
  24: { name: 'I8', blockSize: 1, blockBytes: 1 },
  25: { name: 'I16', blockSize: 1, blockBytes: 2 },
  26: { name: 'I32', blockSize: 1, blockBytes: 4 },
  27: { name: 'I64', blockSize: 1, blockBytes: 8 },
  28: { name: 'F64', blockSize: 1, blockBytes: 8 },
  29: { name: 'IQ1_M', blockSize: 256, blockBytes: 56 },
  30: { name: 'BF16', blockSize: 1, blockBytes: 2 },
  34: { name: 'TQ1_0', blockSize: 256, blockBytes: 54 },
  35: { name: 'TQ2_0', blockSize: 256, blockBytes: 66 },
  39: { name: 'MXFP4', blockSize: 32, blockBytes: 17 },
};

export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

/** Bytes a tensor of this type and shape occupies, or null for a type this table does not know. */
export function tensorByteSize(type: number, dims: readonly number[]): number | null {
  const layout = ggmlTypes[type];
  if (!layout) return null;
  const elements = dims.reduce((a, b) => a * b, 1);
  const rows = elements / (dims[0] ?? 1);
  return rows * Math.ceil((dims[0] ?? 1) / layout.blockSize) * layout.blockBytes;
}

export const alignTo = (offset: number, alignment: number): number => Math.ceil(offset / alignment) * alignment;

/** `general.file_type` (llama_ftype) names, as llama.cpp prints them. */
export const llamaFileTypes: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
};
