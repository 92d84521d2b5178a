import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './wireCodec';

describe('wireCodec', () => {
  it('round-trips typed arrays as raw bytes inside nested JSON', () => {
    const pixels = new Float32Array([0, -1024.5, 3071, Number.MAX_VALUE]);
    const rgb = new Uint8Array([255, 0, 128]);
    const message = { t: 'reply', id: 7, reply: { ok: true, result: { rows: 2, pixels, nested: [{ rgb }] } } };
    const decoded = decodeMessage(encodeMessage(message)) as typeof message;
    expect(decoded.reply.result.rows).toBe(2);
    expect(decoded.reply.result.pixels).toBeInstanceOf(Float32Array);
    expect([...decoded.reply.result.pixels]).toEqual([...pixels]);
    expect(decoded.reply.result.nested[0]!.rgb).toBeInstanceOf(Uint8Array);
    expect([...decoded.reply.result.nested[0]!.rgb]).toEqual([255, 0, 128]);
  });

  it('keeps a subarray view to its own bytes, not the whole backing buffer', () => {
    const backing = new Int16Array([1, 2, 3, 4, 5, 6]);
    const view = backing.subarray(2, 4);
    const decoded = decodeMessage(encodeMessage({ view })) as { view: Int16Array };
    expect([...decoded.view]).toEqual([3, 4]);
  });

  it('sends a 512×512 float frame in about its own size, not as JSON numbers', () => {
    const frame = new Float32Array(512 * 512).map((_, i) => i % 4096);
    const encoded = encodeMessage({ frame });
    expect(encoded.byteLength).toBeLessThan(frame.byteLength + 256);
  });

  it('refuses a frame whose header overruns it, saying what it expected and found', () => {
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint32(0, 1000, true);
    expect(() => decodeMessage(bad)).toThrow(/header of 1000 bytes exceeds the 8-byte frame/);
  });
});
