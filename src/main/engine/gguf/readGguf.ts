import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { EngineError } from '../engineErrors';
import {
  alignTo,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  ggufValueTypeName,
  tensorByteSize,
} from './ggufFormat';

/** One metadata value with the exact type it was written with (llama.cpp asserts on exact scalar types). */
export type GgufValue =
  | { type: Exclude<GgufValueType, GgufValueType.ARRAY | GgufValueType.STRING | GgufValueType.BOOL>; value: number | bigint }
  | { type: GgufValueType.BOOL; value: boolean }
  | { type: GgufValueType.STRING; value: string }
  | {
      type: GgufValueType.ARRAY;
      elementType: GgufValueType;
      length: number;
      /** The elements; null when the array was longer than `keepArraysUpTo` (read past, not kept). */
      value: (number | bigint | boolean | string)[] | null;
    };

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the contiguous dimension (the reverse of a PyTorch shape). */
  dims: number[];
  type: number;
  /** Offset from the start of the data section. */
  offset: number;
  /** Bytes of data, or null when the type is unknown to this reader. */
  byteSize: number | null;
}

export interface GgufFile {
  path: string;
  sizeBytes: number;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
  /** Bytes the tensor table says the file needs; a smaller file is truncated. */
  expectedSizeBytes: number;
}

export interface ReadGgufOptions {
  /** Arrays longer than this are read past without keeping their elements (vocabularies). Defaults to 64. */
  keepArraysUpTo?: number;
}

const CHUNK = 1 << 20;

/** Sequential little-endian reader over a file handle that reads ahead in 1 MiB chunks. */
class ChunkedReader {
  #buffer = Buffer.alloc(0);
  #bufferStart = 0;
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
    private readonly path: string,
  ) {}

  async #ensure(bytes: number, what: string): Promise<void> {
    const end = this.position + bytes;
    if (end <= this.#bufferStart + this.#buffer.length) return;
    if (end > this.fileSize) {
      throw new EngineError(
        'MODEL_TRUNCATED',
        `${basename(this.path)}: expected ${what} at byte ${this.position} (${bytes} bytes), found the end of the file at ${this.fileSize} bytes — the file is truncated`,
        { details: { path: this.path, sizeBytes: this.fileSize } },
      );
    }
    const length = Math.max(bytes, Math.min(CHUNK, this.fileSize - this.position));
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
    this.#buffer = buffer.subarray(0, bytesRead);
    this.#bufferStart = this.position;
  }

  async bytes(n: number, what: string): Promise<Buffer> {
    await this.#ensure(n, what);
    const from = this.position - this.#bufferStart;
    this.position += n;
    return this.#buffer.subarray(from, from + n);
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  async u64(what: string): Promise<number> {
    const value = (await this.bytes(8, what)).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new EngineError('MODEL_INVALID', `${basename(this.path)}: expected a plausible ${what}, found ${value}`);
    }
    return Number(value);
  }

  async string(what: string): Promise<string> {
    const length = await this.u64(`${what} length`);
    if (length > this.fileSize) {
      throw new EngineError('MODEL_INVALID', `${basename(this.path)}: expected ${what} of at most ${this.fileSize} bytes, found a length of ${length}`);
    }
    return (await this.bytes(length, what)).toString('utf8');
  }
}

const scalarSizes: Partial<Record<GgufValueType, number>> = {
  [GgufValueType.U8]: 1,
  [GgufValueType.I8]: 1,
  [GgufValueType.U16]: 2,
  [GgufValueType.I16]: 2,
  [GgufValueType.U32]: 4,
  [GgufValueType.I32]: 4,
  [GgufValueType.F32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.U64]: 8,
  [GgufValueType.I64]: 8,
  [GgufValueType.F64]: 8,
};

async function readScalar(reader: ChunkedReader, type: GgufValueType, what: string): Promise<number | bigint | boolean | string> {
  if (type === GgufValueType.STRING) return reader.string(what);
  const size = scalarSizes[type];
  if (size === undefined) throw new Error(`unsupported scalar type ${ggufValueTypeName(type)}`);
  const b = await reader.bytes(size, what);
  switch (type) {
    case GgufValueType.U8:
      return b.readUInt8(0);
    case GgufValueType.I8:
      return b.readInt8(0);
    case GgufValueType.U16:
      return b.readUInt16LE(0);
    case GgufValueType.I16:
      return b.readInt16LE(0);
    case GgufValueType.U32:
      return b.readUInt32LE(0);
    case GgufValueType.I32:
      return b.readInt32LE(0);
    case GgufValueType.F32:
      return b.readFloatLE(0);
    case GgufValueType.BOOL:
      return b.readUInt8(0) !== 0;
    case GgufValueType.U64:
      return b.readBigUInt64LE(0);
    case GgufValueType.I64:
      return b.readBigInt64LE(0);
    default:
      return b.readDoubleLE(0);
  }
}

/**
 * Reads a GGUF file's header, metadata and tensor table without touching tensor data, so that a bad file is refused
 * before any native code sees it. Throws MODEL_NOT_FOUND, MODEL_NOT_GGUF, MODEL_TRUNCATED or MODEL_INVALID.
 */
export async function readGguf(path: string, options: ReadGgufOptions = {}): Promise<GgufFile> {
  const keepArraysUpTo = options.keepArraysUpTo ?? 64;
  const name = basename(path);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EngineError(
      code === 'ENOENT' ? 'MODEL_NOT_FOUND' : 'MODEL_LOAD_FAILED',
      code === 'ENOENT' ? `expected a model file at ${path}, found nothing there` : `${path}: expected a readable file, found ${code ?? String(error)}`,
      { cause: error, details: { path } },
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new EngineError('MODEL_NOT_GGUF', `${path}: expected a GGUF file, found a directory or device`);
    const fileSize = stat.size;
    const reader = new ChunkedReader(handle, fileSize, path);
    if (fileSize < 4) {
      throw new EngineError('MODEL_NOT_GGUF', `${name}: expected a GGUF file (magic "GGUF"), found ${fileSize} bytes`, { details: { path } });
    }
    const magic = (await reader.bytes(4, 'the magic')).toString('latin1');
    if (magic !== GGUF_MAGIC) {
      throw new EngineError('MODEL_NOT_GGUF', `${name}: expected a GGUF file (magic "GGUF"), found ${JSON.stringify(magic)}`, {
        details: { path },
      });
    }
    const version = await reader.u32('the version');
    if (version !== 2 && version !== 3) {
      throw new EngineError('MODEL_INVALID', `${name}: expected GGUF version 2 or 3, found version ${version}`, { details: { path } });
    }
    const tensorCount = await reader.u64('the tensor count');
    const kvCount = await reader.u64('the metadata count');
    if (tensorCount > fileSize || kvCount > fileSize) {
      throw new EngineError('MODEL_INVALID', `${name}: expected plausible tensor/metadata counts, found ${tensorCount}/${kvCount}`);
    }

    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = await reader.string(`metadata key #${i}`);
      const type = (await reader.u32(`the type of "${key}"`)) as GgufValueType;
      if (type === GgufValueType.ARRAY) {
        const elementType = (await reader.u32(`the element type of "${key}"`)) as GgufValueType;
        const length = await reader.u64(`the length of "${key}"`);
        if (elementType === GgufValueType.ARRAY || (elementType !== GgufValueType.STRING && scalarSizes[elementType] === undefined)) {
          throw new EngineError('MODEL_INVALID', `${name}: "${key}": expected an array of scalars or strings, found elements of ${ggufValueTypeName(elementType)}`);
        }
        const keep = length <= keepArraysUpTo;
        const values: (number | bigint | boolean | string)[] = [];
        const elementSize = scalarSizes[elementType];
        if (!keep && elementSize !== undefined) {
          await reader.bytes(elementSize * length, `the elements of "${key}"`);
        } else {
          for (let j = 0; j < length; j++) {
            const v = await readScalar(reader, elementType, `element ${j} of "${key}"`);
            if (keep) values.push(v);
          }
        }
        metadata.set(key, { type, elementType, length, value: keep ? values : null });
      } else if (type === GgufValueType.STRING) {
        metadata.set(key, { type, value: await reader.string(`the value of "${key}"`) });
      } else if (type === GgufValueType.BOOL) {
        metadata.set(key, { type, value: (await readScalar(reader, type, `the value of "${key}"`)) as boolean });
      } else if (scalarSizes[type] !== undefined) {
        metadata.set(key, { type, value: (await readScalar(reader, type, `the value of "${key}"`)) as number | bigint } as GgufValue);
      } else {
        throw new EngineError('MODEL_INVALID', `${name}: "${key}": expected a known GGUF value type (0–12), found ${type}`);
      }
    }

    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const tensorName = await reader.string(`the name of tensor #${i}`);
      const nDims = await reader.u32(`the rank of "${tensorName}"`);
      if (nDims < 1 || nDims > 4) {
        throw new EngineError('MODEL_INVALID', `${name}: tensor "${tensorName}": expected 1 to 4 dimensions, found ${nDims}`);
      }
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(await reader.u64(`dimension ${d} of "${tensorName}"`));
      const type = await reader.u32(`the type of "${tensorName}"`);
      const offset = await reader.u64(`the offset of "${tensorName}"`);
      tensors.push({ name: tensorName, dims, type, offset, byteSize: tensorByteSize(type, dims) });
    }

    const alignmentValue = metadata.get('general.alignment');
    const alignment =
      alignmentValue && alignmentValue.type === GgufValueType.U32 ? Number(alignmentValue.value) : GGUF_DEFAULT_ALIGNMENT;
    const dataOffset = alignTo(reader.position, alignment);
    const dataBytes = tensors.reduce((end, t) => Math.max(end, t.offset + (t.byteSize ?? 0)), 0);
    const expectedSizeBytes = dataOffset + dataBytes;
    if (tensors.length > 0 && expectedSizeBytes > fileSize) {
      throw new EngineError(
        'MODEL_TRUNCATED',
        `${name}: expected at least ${expectedSizeBytes} bytes (tensor data ends there), found ${fileSize} bytes — the file is truncated`,
        { details: { path, sizeBytes: fileSize, expectedSizeBytes } },
      );
    }
    return { path, sizeBytes: fileSize, version, metadata, tensors, alignment, dataOffset, expectedSizeBytes };
  } finally {
    await handle.close();
  }
}

/** Reads a scalar metadata value as a number when it has one of the numeric types. */
export function metadataNumber(file: GgufFile, key: string): number | null {
  const entry = file.metadata.get(key);
  if (!entry || entry.type === GgufValueType.ARRAY || entry.type === GgufValueType.STRING || entry.type === GgufValueType.BOOL) {
    return null;
  }
  return Number(entry.value);
}

export function metadataString(file: GgufFile, key: string): string | null {
  const entry = file.metadata.get(key);
  return entry?.type === GgufValueType.STRING ? entry.value : null;
}
