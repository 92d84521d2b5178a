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
 * Assembles a scanner specialised for `words` 64-bit words per code: the query lives in `words` i64 locals and the
 * per-code sum is fully unrolled, so the loop body is load, xor, popcnt, add per word (x86 POPCNT under V8).
 */
function assemble(words: number): Uint8Array {
  const [codes, n, query, out, histogram, i, p, d] = [0, 1, 2, 3, 4, 5, 6, 7];
  const q = (w: number): number => 8 + w;
  const get = (l: number): number[] => [op.localGet, ...uleb(l)];
  const set = (l: number): number[] => [op.localSet, ...uleb(l)];
  const body: number[] = [...get(codes), ...set(p), op.i32Const, 0, ...set(i)];
  for (let w = 0; w < words; w++) body.push(...get(query), op.i64Load, 0, ...uleb(w * 8), ...set(q(w)));
  body.push(op.block, op.voidType, op.loop, op.voidType);
  body.push(...get(i), ...get(n), op.i32GeU, op.brIf, 1);
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
  body.push(...get(p), op.i32Const, ...sleb(words * 8), op.i32Add, ...set(p));
  body.push(...get(i), op.i32Const, 1, op.i32Add, ...set(i));
  body.push(op.br, 0, op.end, op.end, op.end);
  const locals = [2, 3, op.i32, ...uleb(words), op.i64];
  const func = [...locals, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 5, op.i32, op.i32, op.i32, op.i32, op.i32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name('hamming'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
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

interface HammingExports {
  hamming(codes: number, n: number, query: number, out: number, histogram: number): void;
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
}

/** The slice of the WebAssembly JS API used here (the node typings in this project do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const compiled = new Map<number, object>();

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

/**
 * An in-memory array of binary codes with a SIMD Hamming scan and a linear-time selection of the closest ones.
 */
export class HammingIndex {
  readonly bytesPerCode: number;
  #exports: HammingExports;
  #count = 0;
  #capacity = 0;
  readonly #histogramOffset = 1024;
  readonly #codesOffset = 1024 + 4 * 8256;

  constructor(dims: number) {
    this.bytesPerCode = codeBytes(dims);
    if (dims > 8192) throw new RangeError(`binary codes support up to 8192 dims, found ${dims}`);
    const words = this.bytesPerCode / 8;
    let module = compiled.get(words);
    if (!module) compiled.set(words, (module = new wasm.Module(assemble(words))));
    this.#exports = new wasm.Instance(module).exports as HammingExports;
  }

  get size(): number {
    return this.#count;
  }

  /** Appends codes (each `bytesPerCode` long, back to back). */
  append(codes: Uint8Array): void {
    const added = codes.length / this.bytesPerCode;
    if (!Number.isInteger(added)) throw new RangeError(`codes must be a multiple of ${this.bytesPerCode} bytes`);
    this.#reserve(this.#count + added);
    new Uint8Array(this.#exports.memory.buffer).set(codes, this.#codesOffset + this.#count * this.bytesPerCode);
    this.#count += added;
  }

  clear(): void {
    this.#count = 0;
  }

  /** Distances of every code to `query` (index order). The view is valid until the next call. */
  distances(query: Uint8Array): Uint16Array {
    const { memory, hamming } = this.#exports;
    const outOffset = this.#codesOffset + this.#capacity * this.bytesPerCode;
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(query.subarray(0, this.bytesPerCode), 0);
    bytes.fill(0, this.#histogramOffset, this.#histogramOffset + 4 * (this.bytesPerCode * 8 + 1));
    hamming(this.#codesOffset, this.#count, 0, outOffset, this.#histogramOffset);
    return new Uint16Array(memory.buffer, outOffset, this.#count);
  }

  /** Indices of the `count` codes closest to `query` (ties at the cut broken by index), in no particular order. */
  nearest(query: Uint8Array, count: number): Int32Array {
    const distances = this.distances(query);
    const n = distances.length;
    if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
    const histogram = new Uint32Array(this.#exports.memory.buffer, this.#histogramOffset, this.bytesPerCode * 8 + 1);
    let threshold = 0;
    let below = 0;
    while (below + histogram[threshold]! < count) below += histogram[threshold++]!;
    let atThreshold = count - below;
    const out = new Int32Array(count);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const d = distances[i]!;
      if (d < threshold) out[k++] = i;
      else if (d === threshold && atThreshold > 0) {
        out[k++] = i;
        atThreshold--;
      }
    }
    return out;
  }

  #reserve(needed: number): void {
    if (needed <= this.#capacity) return;
    const capacity = Math.max(needed, Math.ceil(this.#capacity * 1.5), 1024);
    const bytesNeeded = this.#codesOffset + capacity * (this.bytesPerCode + 2) + 16;
    const memory = this.#exports.memory;
    const old = new Uint8Array(memory.buffer).slice(
      this.#codesOffset,
      this.#codesOffset + this.#count * this.bytesPerCode,
    );
    const pages = Math.ceil(bytesNeeded / 65536) - memory.buffer.byteLength / 65536;
    if (pages > 0) memory.grow(pages);
    new Uint8Array(memory.buffer).set(old, this.#codesOffset);
    this.#capacity = capacity;
  }
}
