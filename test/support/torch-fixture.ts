// Reading the PyTorch parity fixtures (test/fixtures/tiny-*-step: config.json, batches.json,
// expected.json, params.safetensors; scripts/ writes them) and the error measures the parity
// tests judge them by.
import { readFileSync } from 'node:fs';
import { hostTensor } from '../../src/main/engine/graph/index.js';
import { parseSafetensors, toFloat32 } from '../../src/main/engine/model/safetensors.js';

export const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** A safetensors file's tensors as float32, by key. */
export function readTensors(path: string): Map<string, Float32Array> {
  const f = parseSafetensors(new Uint8Array(readFileSync(path)), path);
  return new Map([...f.tensors].map(([k, t]) => [k, toFloat32(t, k)]));
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a[i] − b[i]| over the indices not in `skip`. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, skip?: Set<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (!skip?.has(i)) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Token rows from a fixture's JSON as an int32 [rows, length] feed. */
export const int32Rows = (rows: number[][]) => hostTensor('int32', [rows.length, rows[0].length], rows.flat());
