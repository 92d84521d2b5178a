/**
 * Hamming distances of one binary query against many binary codes, in WebAssembly (64-bit XOR + POPCNT; plain JS
 * needs ~12 integer ops per 32-bit popcount and is several times slower). The module is small enough to be assembled
 * here, byte by byte (no toolchain, no binary blob in the repository):
 *
 * (func $hamming (param $codes i32) (param $n i32) (param $query i32) (param $out i32) (param $histogram i32)
 *   ;; for i in 0..n: d = popcount(codes[i] XOR query); out[i] = d (u16); histogram[d]++ (u32)
 *
 * The histogram lets the caller find the distance cut for the closest `count` codes without sorting.
 */

const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Store: 0x36,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  i64Popcnt: 0x7b,
  i64Add: 0x7c,
  i64Xor: 0x85,
  i32WrapI64: 0xa7,
  voidType: 0x40,
  i32: 0x7f,
  i64: 0x7e,
} as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/**
 * Assembles the two scanners, specialised for `words` 64-bit words per code: the query lives in `words` i64 locals
 * and the per-code sum is fully unrolled, so the loop body is load, xor, popcnt, add per word (x86 POPCNT under V8).
 * `scan` walks codes back to back; `scanAt` takes a list of code indices (the second stage of `nearest`).
 */
function assemble(words: number): Uint8Array {
  const get = (l: number): number[] => [op.localGet, ...uleb(l)];
  const set = (l: number): number[] => [op.localSet, ...uleb(l)];
  const scanner = (indirect: boolean): number[] => {
    // params: scan(codes, n, query, out, histogram) | scanAt(codes, n, query, out, histogram, indices)
    const [codes, n, query, out, histogram] = [0, 1, 2, 3, 4];
    const indices = 5;
    const first = indirect ? 6 : 5;
    const [i, p, d] = [first, first + 1, first + 2];
    const q = (w: number): number => first + 3 + w;
    const body: number[] = [...get(codes), ...set(p), op.i32Const, 0, ...set(i)];
    for (let w = 0; w < words; w++) body.push(...get(query), op.i64Load, 0, ...uleb(w * 8), ...set(q(w)));
    body.push(op.block, op.voidType, op.loop, op.voidType);
    body.push(...get(i), ...get(n), op.i32GeU, op.brIf, 1);
    if (indirect) {
      // p = codes + indices[i] * bytesPerCode
      body.push(...get(codes), ...get(indices), ...get(i), op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0);
      body.push(op.i32Const, ...sleb(words * 8), op.i32Mul, op.i32Add, ...set(p));
    }
    for (let w = 0; w < words; w++) {
      body.push(...get(p), op.i64Load, 0, ...uleb(w * 8), ...get(q(w)), op.i64Xor, op.i64Popcnt);
      if (w > 0) body.push(op.i64Add);
    }
    body.push(op.i32WrapI64, ...set(d));
    // out[i] = d
    body.push(...get(out), ...get(i), op.i32Const, 1, op.i32Shl, op.i32Add, ...get(d), op.i32Store16, 1, 0);
    // histogram[d]++
    body.push(...get(histogram), ...get(d), op.i32Const, 2, op.i32Shl, op.i32Add, op.localTee, ...uleb(d));
    body.push(...get(d), op.i32Load, 2, 0, op.i32Const, 1, op.i32Add, op.i32Store, 2, 0);
    if (!indirect) body.push(...get(p), op.i32Const, ...sleb(words * 8), op.i32Add, ...set(p));
    body.push(...get(i), op.i32Const, 1, op.i32Add, ...set(i));
    body.push(op.br, 0, op.end, op.end, op.end);
    const func = [2, 3, op.i32, ...uleb(words), op.i64, ...body];
    return [...uleb(func.length), ...func];
  };
  const i32 = op.i32;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [2, 0x60, 5, i32, i32, i32, i32, i32, 0, 0x60, 6, i32, i32, i32, i32, i32, i32, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...name('scan'), 0x00, 0, ...name('scanAt'), 0x00, 1]),
    ...section(10, [2, ...scanner(false), ...scanner(true)]),
  ]);
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

interface Scanner {
  scan(codes: number, n: number, query: number, out: number, histogram: number): void;
  scanAt(codes: number, n: number, query: number, out: number, histogram: number, indices: number): void;
}

interface Memory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The slice of the WebAssembly JS API used here (the node typings in this project do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => Memory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const compiled = new Map<number, object>();

function scanner(words: number, memory: Memory): Scanner {
  let module = compiled.get(words);
  if (!module) compiled.set(words, (module = new wasm.Module(assemble(words))));
  return new wasm.Instance(module, { env: { memory } }).exports as Scanner;
}

/** Bytes per code for `dims` sign bits: rounded up to whole 64-bit words. */
export function codeBytes(dims: number): number {
  return Math.ceil(dims / 64) * 8;
}

/** Sign bits of a vector (bit set = component > 0), padded with zeros to `codeBytes(dims)`. */
export function signBits(vector: Float32Array, into = new Uint8Array(codeBytes(vector.length))): Uint8Array {
  into.fill(0);
  for (let d = 0; d < vector.length; d++) if (vector[d]! > 0) into[d >> 3]! |= 1 << (d & 7);
  return into;
}

export interface NearestOptions {
  /**
   * Codes kept by a first pass over the first 256 bits only, before the full-length pass ranks them; 0 = one full
   * pass. Defaults to 0 below 200,000 codes, else max(32 × count, 2% of the codes) (the first pass reads a quarter
   * of the bytes of a 1024-bit code).
   */
  firstStage?: number;
}

const prefixWords = 4;
const queryOffset = 0;
const histogramOffset = 1024;
const regionsOffset = histogramOffset + 4 * 8256;

/**
 * An in-memory array of binary codes with a WebAssembly Hamming scan and a linear-time selection of the closest ones
 * (a distance histogram gives the cut). Large indexes use two passes: the first 256 bits of every code, then the
 * full codes of the survivors. Memory layout: query | histogram | prefixes | codes | distances | survivors.
 */
export class HammingIndex {
  readonly bytesPerCode: number;
  readonly #words: number;
  readonly #prefixBytes: number;
  readonly #memory: Memory;
  readonly #full: Scanner;
  readonly #prefix: Scanner | null;
  #count = 0;
  #capacity = 0;

  constructor(dims: number) {
    if (dims > 8192) throw new RangeError(`binary codes support up to 8192 dims, found ${dims}`);
    this.bytesPerCode = codeBytes(dims);
    this.#words = this.bytesPerCode / 8;
    this.#memory = new wasm.Memory({ initial: 1 });
    this.#full = scanner(this.#words, this.#memory);
    this.#prefix = this.#words >= 2 * prefixWords ? scanner(prefixWords, this.#memory) : null;
    this.#prefixBytes = this.#prefix ? prefixWords * 8 : 0;
  }

  get size(): number {
    return this.#count;
  }

  /** Appends codes (each `bytesPerCode` long, back to back). */
  append(codes: Uint8Array): void {
    const added = codes.length / this.bytesPerCode;
    if (!Number.isInteger(added)) throw new RangeError(`codes must be a multiple of ${this.bytesPerCode} bytes`);
    this.#reserve(this.#count + added);
    const bytes = new Uint8Array(this.#memory.buffer);
    bytes.set(codes, this.#codesAt() + this.#count * this.bytesPerCode);
    if (this.#prefixBytes > 0) {
      for (let i = 0; i < added; i++) {
        const from = i * this.bytesPerCode;
        bytes.set(
          codes.subarray(from, from + this.#prefixBytes),
          regionsOffset + (this.#count + i) * this.#prefixBytes,
        );
      }
    }
    this.#count += added;
  }

  clear(): void {
    this.#count = 0;
  }

  /** Full-length distances of every code to `query` (index order). The view is valid until the next call. */
  distances(query: Uint8Array): Uint16Array {
    this.#setQuery(query);
    this.#full.scan(this.#codesAt(), this.#count, queryOffset, this.#distancesAt(), histogramOffset);
    return new Uint16Array(this.#memory.buffer, this.#distancesAt(), this.#count);
  }

  /** Indices of the `count` codes closest to `query` (ties at the cut broken by index), in no particular order. */
  nearest(query: Uint8Array, count: number, options: NearestOptions = {}): Int32Array {
    const n = this.#count;
    if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
    const firstStage = Math.min(n, options.firstStage ?? (n < 200_000 ? 0 : Math.max(32 * count, Math.ceil(n / 50))));
    if (!this.#prefix || firstStage <= count || firstStage >= n) {
      const distances = this.distances(query);
      return this.#select(distances, this.bytesPerCode * 8, count, null);
    }
    this.#setQuery(query);
    this.#prefix.scan(regionsOffset, n, queryOffset, this.#distancesAt(), histogramOffset);
    const survivors = this.#select(
      new Uint16Array(this.#memory.buffer, this.#distancesAt(), n),
      prefixWords * 64,
      firstStage,
      new Int32Array(this.#memory.buffer, this.#survivorsAt(), firstStage),
    );
    this.#clearHistogram();
    this.#full.scanAt(
      this.#codesAt(),
      firstStage,
      queryOffset,
      this.#distancesAt(),
      histogramOffset,
      this.#survivorsAt(),
    );
    const picked = this.#select(
      new Uint16Array(this.#memory.buffer, this.#distancesAt(), firstStage),
      this.bytesPerCode * 8,
      count,
      null,
    );
    for (let i = 0; i < picked.length; i++) picked[i] = survivors[picked[i]!]!;
    return picked;
  }

  /** The `count` smallest distances' positions, from the histogram the last scan filled. */
  #select(distances: Uint16Array, maxDistance: number, count: number, into: Int32Array | null): Int32Array {
    const histogram = new Uint32Array(this.#memory.buffer, histogramOffset, maxDistance + 1);
    let threshold = 0;
    let below = 0;
    while (below + histogram[threshold]! < count) below += histogram[threshold++]!;
    let atThreshold = count - below;
    const out = into ?? new Int32Array(count);
    let k = 0;
    for (let i = 0; i < distances.length && k < count; i++) {
      const d = distances[i]!;
      if (d < threshold) out[k++] = i;
      else if (d === threshold && atThreshold > 0) {
        out[k++] = i;
        atThreshold--;
      }
    }
    return out;
  }

  #setQuery(query: Uint8Array): void {
    new Uint8Array(this.#memory.buffer).set(query.subarray(0, this.bytesPerCode), queryOffset);
    this.#clearHistogram();
  }

  #clearHistogram(): void {
    new Uint8Array(this.#memory.buffer).fill(0, histogramOffset, histogramOffset + 4 * (this.bytesPerCode * 8 + 1));
  }

  #codesAt(capacity = this.#capacity): number {
    return regionsOffset + capacity * this.#prefixBytes;
  }

  #distancesAt(): number {
    return this.#codesAt() + this.#capacity * this.bytesPerCode;
  }

  #survivorsAt(): number {
    return this.#distancesAt() + this.#capacity * 2 + 8;
  }

  #reserve(needed: number): void {
    if (needed <= this.#capacity) return;
    const capacity = Math.max(needed, Math.ceil(this.#capacity * 1.5), 1024);
    const bytesNeeded = regionsOffset + capacity * (this.#prefixBytes + this.bytesPerCode + 2 + 4) + 64;
    const pages = Math.ceil(bytesNeeded / 65536) - this.#memory.buffer.byteLength / 65536;
    if (pages > 0) this.#memory.grow(pages);
    // The codes region starts after the prefixes, so it moves when the capacity grows (copyWithin handles overlap).
    const from = this.#codesAt();
    const to = this.#codesAt(capacity);
    if (from !== to && this.#count > 0) {
      new Uint8Array(this.#memory.buffer).copyWithin(to, from, from + this.#count * this.bytesPerCode);
    }
    this.#capacity = capacity;
  }
}
