/**
 * Binary framing for the loopback bridge: `[u32 header length][header JSON][blob 0][blob 1]…`.
 * Typed arrays travel as raw bytes (a 512×512 frame is not inflated into JSON); the header refers to them as
 * `{"$bin": index, "type": "Float32Array"}`. Uses only web-standard APIs so both ends share it.
 */
const typedArrayConstructors = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;

type TypedArrayName = keyof typeof typedArrayConstructors;
type AnyTypedArray = InstanceType<(typeof typedArrayConstructors)[TypedArrayName]>;

interface BinaryRef {
  $bin: number;
  type: TypedArrayName | 'ArrayBuffer';
}

function typedArrayName(value: unknown): TypedArrayName | null {
  for (const [name, ctor] of Object.entries(typedArrayConstructors)) {
    if (value instanceof ctor) return name as TypedArrayName;
  }
  // Node's Buffer is a Uint8Array subclass and matches above; arrays from other realms are matched by tag.
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return tag in typedArrayConstructors ? (tag as TypedArrayName) : null;
}

export function encodeMessage(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const header = JSON.stringify(message, function (this: unknown, _key, value: unknown) {
    if (value instanceof ArrayBuffer) {
      blobs.push(new Uint8Array(value));
      return { $bin: blobs.length - 1, type: 'ArrayBuffer' } satisfies BinaryRef;
    }
    const name = typedArrayName(value);
    if (name) {
      const view = value as AnyTypedArray;
      blobs.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      return { $bin: blobs.length - 1, type: name } satisfies BinaryRef;
    }
    return value;
  });
  const headerBytes = new TextEncoder().encode(header ?? 'null');
  const align = (n: number): number => (n + 7) & ~7;
  let size = align(4 + headerBytes.length);
  for (const blob of blobs) size = align(size + 4 + blob.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  let offset = align(4 + headerBytes.length);
  for (const blob of blobs) {
    view.setUint32(offset, blob.byteLength, true);
    out.set(blob, offset + 4);
    offset = align(offset + 4 + blob.byteLength);
  }
  return out;
}

export function decodeMessage(data: ArrayBuffer | Uint8Array): unknown {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new Error(`bridge message: expected at least 4 bytes, found ${bytes.byteLength}`);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > bytes.byteLength) {
    throw new Error(`bridge message: header of ${headerLength} bytes exceeds the ${bytes.byteLength}-byte frame`);
  }
  const header = new TextDecoder().decode(bytes.subarray(4, 4 + headerLength));
  const align = (n: number): number => (n + 7) & ~7;
  const blobs: ArrayBuffer[] = [];
  let offset = align(4 + headerLength);
  while (offset + 4 <= bytes.byteLength) {
    const length = view.getUint32(offset, true);
    const start = bytes.byteOffset + offset + 4;
    blobs.push(bytes.buffer.slice(start, start + length) as ArrayBuffer);
    offset = align(offset + 4 + length);
  }
  return JSON.parse(header, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$bin' in value && 'type' in value) {
      const ref = value as BinaryRef;
      const blob = blobs[ref.$bin];
      if (!blob) throw new Error(`bridge message: blob ${ref.$bin} referenced but only ${blobs.length} present`);
      return ref.type === 'ArrayBuffer' ? blob : new typedArrayConstructors[ref.type](blob);
    }
    return value;
  });
}

export type BridgeClientMessage = { t: 'invoke'; id: number; channel: string; args: unknown };
export type BridgeServerMessage =
  | { t: 'reply'; id: number; reply: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } } }
  | { t: 'event'; event: string; payload: unknown };
