// The safetensors format (huggingface/safetensors, "format" section of its README):
//   8 bytes  little-endian u64 N = header length
//   N bytes  UTF-8 JSON: { "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }
//   rest     the tensors' bytes, little-endian, row-major; offsets are relative to the end of the header.
// Readers must reject overlapping or out-of-range offsets and sizes that disagree with
// dtype × shape; this one also rejects holes, as the reference implementation does.
import { EngineError } from '../../../shared/errors.js';
import { fromHalfBits, numel } from '../graph/dtype.js';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const DTYPE_BYTES: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

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

/**
 * Refuse headers past this size: real ones are kilobytes (a few MB for the largest models);
 * a garbage length must not allocate GBs. The reference implementation's limit.
 */
export const MAX_HEADER = 100_000_000;

/** Where a tensor lives: its dtype, shape and byte span, relative to the start of the data. */
export interface TensorEntry {
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export function badSafetensors(file: string, why: string): EngineError {
  return new EngineError('SCHEMA', `${file} is not a valid safetensors file: ${why}; re-save it with safetensors (save_file / save_pretrained)`, { file });
}

/**
 * The header length from the first 8 bytes, checked against the file's size before anything
 * else is read, so a file with a garbage header fails without reading its body.
 */
export function headerLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) throw badSafetensors(file, `it has ${fileSize} bytes, fewer than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER) || 8 + Number(n) > fileSize) throw badSafetensors(file, `header length ${n} does not fit the file's ${fileSize} bytes`);
  return Number(n);
}

/** Parses and checks a header (the N bytes after the length) for a data section of `dataLength` bytes. */
export function parseHeader(json: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  const bad = (why: string) => badSafetensors(file, why);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw bad(`its header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('its header is not a JSON object');
  const entries = new Map<string, TensorEntry>();
  const spans: Array<[number, number, string]> = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) {
      throw bad(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    const dtype = e.dtype as SafeDType;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`tensor '${name}' has shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw bad(`tensor '${name}' has data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLength) throw bad(`tensor '${name}' ends at byte ${end} but the data has ${dataLength} (truncated file?)`);
    const expected = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) throw bad(`tensor '${name}' (${dtype} [${shape.join(', ')}]) needs ${expected} bytes but spans ${end - begin}`);
    entries.set(name, { dtype, shape: shape as number[], begin, end });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) throw bad(begin < at ? `tensor '${name}' overlaps the tensor before it` : `there is a gap before tensor '${name}'`);
    at = end;
  }
  if (at !== dataLength) throw bad(`${dataLength - at} bytes after the last tensor`);
  return { entries, metadata };
}

/** A whole safetensors file already in memory (checkpoints, tests); model folders are read by safetensors-file.ts. */
export function parseSafetensors(buf: Uint8Array, file = 'safetensors file'): SafetensorsFile {
  const n = headerLength(buf.subarray(0, 8), buf.byteLength, file);
  const data = buf.subarray(8 + n);
  const { entries, metadata } = parseHeader(buf.subarray(8, 8 + n), data.byteLength, file);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of entries) tensors.set(name, { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

/** A floating-point tensor's values as float32 (F16 and BF16 widened exactly, F64 rounded). */
export function toFloat32(t: SafeTensor, name = 'tensor'): Float32Array {
  const out = new Float32Array(numel(t.shape));
  widenInto(out, 0, t.bytes, t.dtype, name);
  return out;
}

/** Writes the values in `bytes` (whole elements of `dtype`) into `out` from element `at` on. */
export function widenInto(out: Float32Array, at: number, bytes: Uint8Array, dtype: SafeDType, name = 'tensor'): void {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      // A byte copy, not getFloat32: bit-exact (NaN payloads included) and fast.
      new Uint8Array(out.buffer, out.byteOffset + at * 4, bytes.byteLength).set(bytes);
      return;
    case 'F64':
      for (let i = 0; i < n; i++) out[at + i] = dv.getFloat64(i * 8, true);
      return;
    case 'F16':
      for (let i = 0; i < n; i++) out[at + i] = fromHalfBits(dv.getUint16(i * 2, true));
      return;
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift the bits back into place.
      const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
      for (let i = 0; i < n; i++) bits[at + i] = dv.getUint16(i * 2, true) << 16;
      return;
    }
    default:
      throw new EngineError('BAD_INPUT', `${name} has dtype ${dtype}, not a floating-point type`);
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
    const count = t.data instanceof Uint8Array ? t.data.byteLength / DTYPE_BYTES[t.dtype] : t.data.length;
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
