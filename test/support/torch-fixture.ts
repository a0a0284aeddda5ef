// Reading the PyTorch parity fixtures (test/fixtures/tiny-*-step: config.json, batches.json,
// expected.json, params.safetensors; scripts/ writes them). The error measures the tests judge
// them by are in measure.ts.
import { readFileSync } from 'node:fs';
import { hostTensor } from '../../src/main/engine/graph/index.js';
import { parseSafetensors, toFloat32 } from '../../src/main/engine/model/safetensors.js';

export const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** A safetensors file's tensors as float32, by key. */
export function readTensors(path: string): Map<string, Float32Array> {
  const f = parseSafetensors(new Uint8Array(readFileSync(path)), path);
  return new Map([...f.tensors].map(([k, t]) => [k, toFloat32(t, k)]));
}

/** Token rows from a fixture's JSON as an int32 [rows, length] feed. */
export const int32Rows = (rows: number[][]) => hostTensor('int32', [rows.length, rows[0].length], rows.flat());
