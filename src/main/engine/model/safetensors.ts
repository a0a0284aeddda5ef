// The safetensors format (huggingface/safetensors, "format" section of its README):
//   8 bytes  little-endian u64 N = header length
//   N bytes  UTF-8 JSON: { "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }
//   rest     the tensors' bytes, little-endian, row-major; offsets are relative to the end of the header.
// Readers must reject overlapping or out-of-range offsets and sizes that disagree with
// dtype × shape; this one also rejects holes, as the reference implementation does.
import { EngineError } from '../../../shared/errors.js';
import { fromHalfBits, numel } from '../graph/dtype.js';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const BYTES: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** The tensor's bytes (a view into the file's buffer, not a copy). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Refuse headers past this size: real ones are kilobytes; a garbage length must not allocate GBs. */
const MAX_HEADER = 100 * 1024 * 1024;

export function parseSafetensors(buf: Uint8Array, file = 'safetensors file'): SafetensorsFile {
  const bad = (why: string) =>
    new EngineError('SCHEMA', `${file} is not a valid safetensors file: ${why}; re-save it with safetensors (save_file / save_pretrained)`, { file });
  if (buf.byteLength < 8) throw bad(`it has ${buf.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.byteLength) throw bad(`header length ${n} does not fit the file's ${buf.byteLength} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(`its header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('its header is not a JSON object');
  const data = buf.subarray(8 + n);
  const tensors = new Map<string, SafeTensor>();
  const spans: Array<[number, number, string]> = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      throw bad(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; supported: ${Object.keys(BYTES).join(', ')}`);
    }
    const dtype = e.dtype as SafeDType;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor '${name}' has shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      throw bad(`tensor '${name}' has data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > data.byteLength) throw bad(`tensor '${name}' ends at byte ${end} but the data has ${data.byteLength} (truncated file?)`);
    const expected = numel(shape) * BYTES[dtype];
    if (end - begin !== expected) throw bad(`tensor '${name}' (${dtype} [${shape.join(', ')}]) needs ${expected} bytes but spans ${end - begin}`);
    tensors.set(name, { dtype, shape: shape as number[], bytes: data.subarray(begin, end) });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) throw bad(begin < at ? `tensor '${name}' overlaps the tensor before it` : `there is a gap before tensor '${name}'`);
    at = end;
  }
  if (at !== data.byteLength) throw bad(`${data.byteLength - at} bytes after the last tensor`);
  return { tensors, metadata };
}

/** A floating-point tensor's values as float32 (F16 and BF16 widened exactly, F64 rounded). */
export function toFloat32(t: SafeTensor, name = 'tensor'): Float32Array {
  const n = numel(t.shape);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      // A byte copy, not getFloat32: bit-exact (NaN payloads included) and fast.
      new Uint8Array(out.buffer).set(t.bytes);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = fromHalfBits(dv.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift the bits back into place.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new EngineError('BAD_INPUT', `${name} has dtype ${t.dtype}, not a floating-point type`);
  }
}

export interface TensorToWrite {
  dtype: SafeDType;
  shape: readonly number[];
  /** Typed values, or raw little-endian bytes (a Uint8Array) for any dtype, e.g. a tensor passed through unchanged. */
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;
}

/** Serialises tensors in the given order (keys sorted by the caller if it wants stable files). */
export function writeSafetensors(tensors: Iterable<[string, TensorToWrite]>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.data instanceof Uint8Array ? t.data.byteLength / BYTES[t.dtype] : t.data.length;
    if (numel(t.shape) !== count) {
      throw new EngineError('INTERNAL', `tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
    // Typed arrays are little-endian on every platform Node runs on (x64, arm64).
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // pad so the data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
