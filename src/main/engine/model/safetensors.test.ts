import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, toFloat32, writeSafetensors } from './safetensors.js';

function withHeader(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips tensors, order and metadata', () => {
    const a = new Float32Array([1.5, -2, 3.25, 0]);
    const b = new Int32Array([7, -8]);
    const bytes = writeSafetensors([['a', { dtype: 'F32', shape: [2, 2], data: a }], ['b', { dtype: 'I32', shape: [2], data: b }]], { format: 'pt' });
    const f = parseSafetensors(bytes);
    expect([...f.tensors.keys()]).toEqual(['a', 'b']);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.tensors.get('a')!.shape).toEqual([2, 2]);
    expect([...toFloat32(f.tensors.get('a')!)]).toEqual([1.5, -2, 3.25, 0]);
    expect([...new Int32Array(f.tensors.get('b')!.bytes.slice().buffer)]).toEqual([7, -8]);
    expect((bytes.length - 8) % 8).toBe(0);
  });

  it('widens F16 and BF16 to the published values', () => {
    // F16: 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504 (max half), 0x0001 = 2^-24 (smallest subnormal)
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]).buffer);
    // BF16: 0x3f80 = 1, 0x4049 = 3.140625, 0xbf00 = -0.5
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0x4049, 0xbf00]).buffer);
    const data = new Uint8Array([...f16, ...bf16]);
    const f = parseSafetensors(
      withHeader({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [3], data_offsets: [8, 14] } }, data),
    );
    expect([...toFloat32(f.tensors.get('h')!)]).toEqual([1, -2, 65504, 2 ** -24]);
    expect([...toFloat32(f.tensors.get('b')!)]).toEqual([1, 3.140625, -0.5]);
  });

  it('reads the committed PyTorch fixture', () => {
    const f = parseSafetensors(new Uint8Array(readFileSync('test/fixtures/tiny-bert-step/params.safetensors')));
    const w = f.tensors.get('embeddings.word_embeddings.weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([250, 64]);
    expect(f.tensors.size).toBe(37);
  });

  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['too short', new Uint8Array(4), /fewer than the 8-byte/],
    ['huge header length', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /header length/],
    ['not JSON', withHeader({}, new Uint8Array()).map((x, i) => (i === 8 ? 0x7b + 1 : x)), /not UTF-8 JSON/],
    ['unknown dtype', withHeader({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /dtype "Q4"/],
    ['size mismatch', withHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12 bytes but spans 8/],
    ['truncated', withHeader({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /truncated/],
    ['overlap', withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /overlaps/],
    ['trailing bytes', withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /4 bytes after the last tensor/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`rejects a file with ${name}, naming the file`, () => {
      expect(() => parseSafetensors(bytes, 'model.safetensors')).toThrow(message);
      expect(() => parseSafetensors(bytes, 'model.safetensors')).toThrow(/model\.safetensors/);
    });
  }
});
