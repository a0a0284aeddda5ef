// The NPY format, version 1.0 (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", version
// bytes 1 0, a little-endian u16 header length, then an ASCII Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded with spaces and ended
// by '\n' so the data starts on a 64-byte boundary (numpy's alignment since 1.x), then the
// data in C order. numpy.load and every NPY reader open it.
import { EngineError } from '../../../shared/errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** An NPY v1.0 file holding `data` as little-endian float32 of `shape` (C order). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new EngineError('INTERNAL', `npy: ${data.length} values do not fill shape [${shape.join(', ')}]`);
  }
  // A 1-tuple needs its trailing comma in Python: (5,).
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += ' '.repeat(pad) + '\n';
  if (header.length > 0xffff) throw new EngineError('INTERNAL', 'npy: header too long for format version 1.0');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays are little-endian on every platform Node runs on (x64, arm64), as '<f4' says.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Shape and float32 data of an NPY v1.0 '<f4' C-order file (what encodeNpy writes); for tests and tools. */
export function decodeNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  const bad = (why: string) => new EngineError('BAD_INPUT', `not an NPY float32 file: ${why}`);
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw bad('no \\x93NUMPY magic');
  if (bytes[6] !== 1) throw bad(`format version ${bytes[6]}.${bytes[7]}, expected 1.0`);
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + len));
  if (!/'descr': '<f4'/.test(header) || !/'fortran_order': False/.test(header)) throw bad(`header ${header.trim()}`);
  const m = /'shape': \(([^)]*)\)/.exec(header);
  if (!m) throw bad('no shape');
  const shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(new Uint8Array(bytes.subarray(10 + len)).buffer); // a copy: Buffer views may be unaligned
  if (data.length !== shape.reduce((a, b) => a * b, 1)) throw bad(`${data.length} values for shape (${shape.join(', ')})`);
  return { shape, data };
}
