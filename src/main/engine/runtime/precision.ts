// Which precision a job runs in (shared/jobs.ts PrecisionChoice) on a chosen device. fp16 is
// taken only where the device computes in float16 itself:
// - the CPU EP of onnxruntime-node 1.30 (x64) has float16 kernels for data movement only
//   (Cast, Gather, Transpose, Reshape …); for MatMul, Add, Mul, Div, Where, Softmax, Erf, Exp,
//   ReduceSum and the rest its CastFloat16Transformer inserts casts to float32 around the
//   float32 kernel (seen in its verbose log), so "fp16" there would be fp32 with extra passes.
//   Asked for, it is refused; 'auto' takes fp32.
// - the WebGPU EP registers its kernels for float and float16 but requests the adapter's
//   shader-f16 feature only when the adapter offers it; a float16 program then fails at its
//   first node ("requires f16 but the device does not support it"). Whether it does is found
//   by running a small float16 graph on the device and checking the answer.

import { type PrecisionChoice, PRECISION_CHOICES } from '../../../shared/jobs.js';
import { EngineError } from '../../../shared/errors.js';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { fromHalfBits, toHalfBits } from '../graph/dtype.js';
import { type Device, createSession } from './session.js';

export type Precision = 'fp32' | 'fp16';

export interface PrecisionResolution {
  precision: Precision;
  /** One sentence for logs and the UI: why this precision. */
  reason: string;
}

const CPU_NO_FP16 =
  "onnxruntime-node's CPU execution provider has no float16 compute kernels (it would insert float32 casts around every MatMul, Add and Softmax)";

/** Whether `device` runs a float16 MatMul + Softmax natively and right; the error when not. */
async function probeFloat16(device: Device): Promise<string | null> {
  const g = new Graph('fp16-probe');
  const a = g.input('a', 'float16', [2, 2]);
  g.output(o.softmax(o.matmul(a, a), -1), 'y');
  let session;
  try {
    session = await createSession(serialize(g), { device, threads: 1, logLevel: 'fatal' });
  } catch (err) {
    return (err as Error).message;
  }
  try {
    // [[1, 0], [0, 2]]² = [[1, 0], [0, 4]]; softmax rows [e/(e+1), 1/(e+1)] and [1/(1+e⁴), e⁴/(1+e⁴)].
    const out = await session.run({ a: { dtype: 'float16', shape: [2, 2], data: Uint16Array.from([1, 0, 0, 2], toHalfBits) } });
    const got = Array.from(out.y.data as Uint16Array, fromHalfBits);
    const e = Math.E;
    const want = [e / (e + 1), 1 / (e + 1), 1 / (1 + e ** 4), e ** 4 / (1 + e ** 4)];
    if (out.y.dtype !== 'float16' || got.some((v, i) => Math.abs(v - want[i]) > 2e-3)) {
      return `a float16 probe computed [${got.join(', ')}] instead of [${want.map((w) => w.toFixed(4)).join(', ')}]`;
    }
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await session.release();
  }
}

const probes = new Map<Device, Promise<string | null>>();

/** The float16 probe for `device`, once per process; null when float16 works there. */
export function float16Problem(device: Device): Promise<string | null> {
  if (device === 'cpu') return Promise.resolve(CPU_NO_FP16);
  let p = probes.get(device);
  if (!p) probes.set(device, (p = probeFloat16(device)));
  return p;
}

/** The precision to run at on `device`: 'fp16' where it works, or an error saying why not and what to use. */
export async function resolvePrecision(pref: PrecisionChoice, device: Device, modelProblem: string | null = null): Promise<PrecisionResolution> {
  if (!(PRECISION_CHOICES as readonly string[]).includes(pref)) {
    throw new EngineError('BAD_INPUT', `precision '${String(pref)}' is not one of: ${PRECISION_CHOICES.join(', ')}`, { setting: 'precision' });
  }
  if (pref === 'fp32') return { precision: 'fp32', reason: 'fp32 was asked for' };
  // A model whose activations float16 cannot hold (nn's modelFloat16Problem): auto stays fp32.
  if (modelProblem) {
    if (pref === 'fp16') throw new EngineError('UNSUPPORTED', `--precision fp16 does not suit this model: ${modelProblem}. Fix: use --precision fp32 (or auto)`, { setting: 'precision' });
    return { precision: 'fp32', reason: `auto picked fp32: ${modelProblem}` };
  }
  const problem = await float16Problem(device);
  if (pref === 'fp16') {
    if (problem) {
      const fix = device === 'cpu' ? 'use --precision fp32 (or auto), or --device webgpu on a GPU' : 'use --precision fp32 (or auto); fp16 needs an adapter with shader-f16';
      throw new EngineError('UNSUPPORTED', `--precision fp16 does not work on ${device}: ${problem}. Fix: ${fix}`, { setting: 'precision', device });
    }
    return { precision: 'fp16', reason: `fp16 was asked for and ${device} runs float16` };
  }
  // auto: fp16 only where it is checked to pay off; CUDA's float16 path is untested here.
  if (device === 'webgpu' && !problem) return { precision: 'fp16', reason: 'auto picked fp16: the WebGPU adapter runs float16 (shader-f16)' };
  return { precision: 'fp32', reason: `auto picked fp32: ${problem ?? `fp16 is taken automatically on WebGPU only, not on ${device}`}` };
}
