// Element types of the tensor IR and their ONNX / typed-array counterparts.
// The ONNX codes are TensorProto.DataType from onnx/onnx.proto.

import { EngineError } from '../../../shared/errors.js';

export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float16', 'float64', 'int32', 'int64', 'bool'];

/** The typed array that holds each dtype's elements (float16 as raw IEEE half bits, bool as 0/1 bytes). */
export interface TypedArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}
export type TypedArray = TypedArrayOf[DType];

/** A tensor's value on the host: what constants hold and what the runtime feeds and returns. */
export interface HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayOf[D];
}

export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int32: 4,
  int64: 8,
  bool: 1,
};

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'float64';
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE 754 binary16 bits of a number (round to nearest even), for float16 constants. */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // subnormal: shift in the implicit bit
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++; // a carry into the exponent is still correct
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Builds the typed array for `dtype` from plain numbers (float16 values are converted to bits). */
export function typedArrayFrom<D extends DType>(dtype: D, values: ArrayLike<number>): TypedArrayOf[D] {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values) as TypedArrayOf[D];
    case 'float64':
      return Float64Array.from(values) as TypedArrayOf[D];
    case 'int32':
      return Int32Array.from(values) as TypedArrayOf[D];
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0)) as TypedArrayOf[D];
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = toHalfBits(values[i]);
      return out as TypedArrayOf[D];
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (!Number.isInteger(values[i])) {
          throw new EngineError('BAD_INPUT', `int64 value ${values[i]} at index ${i} is not an integer`);
        }
        out[i] = BigInt(values[i]);
      }
      return out as TypedArrayOf[D];
    }
  }
  throw new EngineError('INTERNAL', `unknown dtype '${String(dtype)}'`);
}

/** Elements as plain numbers (float16 decoded, int64 converted; exact below 2^53). */
export function toNumbers(t: { dtype: DType; data: TypedArray }): number[] {
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, fromHalfBits);
  if (t.dtype === 'int64') return Array.from(t.data as BigInt64Array, Number);
  return Array.from(t.data as ArrayLike<number>);
}

/** A host tensor from plain numbers: `hostTensor('float32', [2, 2], [1, 2, 3, 4])`. */
export function hostTensor<D extends DType>(dtype: D, shape: readonly number[], values: ArrayLike<number>): HostTensor<D> {
  if (values.length !== numel(shape)) {
    throw new EngineError('BAD_INPUT', `${values.length} values do not fill shape [${shape.join(', ')}]`);
  }
  return { dtype, shape: [...shape], data: typedArrayFrom(dtype, values) };
}
