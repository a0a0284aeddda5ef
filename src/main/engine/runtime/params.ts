// Checks and name maps shared by the trainer and the encoder: host parameters against the
// graph's ParamSpecs (asserted shapes, as nanoGPT loads a checkpoint), data feeds against
// the graph's DataInputSpecs, and the contract's state names.

import { EngineError } from '../../../shared/errors.js';
import { type HostTensor, numel } from '../graph/dtype.js';
import type { BucketShape } from './buckets.js';
import { type DataInputSpec, type ParamSpec, type StateSlot, nextName, stateNames } from './contract.js';

/** Values waiting on the host until the first graph says what shapes they have. */
export interface ParamState {
  p: Map<string, Float32Array>;
  m: Map<string, Float32Array> | null;
  v: Map<string, Float32Array> | null;
}

export function checkShape(shape: BucketShape): void {
  for (const [k, n] of Object.entries(shape)) {
    if (!Number.isInteger(n) || n <= 0) throw new EngineError('BAD_INPUT', `shape ${k} ${n} must be a positive integer`);
  }
}

/** Every spec's key present with the right element count, and no key the graph does not know. */
export function checkParamKeys(specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>, what: string): void {
  const known = new Set(specs.map((s) => s.key));
  const missing = specs.filter((s) => !values.has(s.key)).map((s) => s.key);
  const extra = [...values.keys()].filter((k) => !known.has(k));
  if (missing.length || extra.length) {
    throw new EngineError(
      'BAD_INPUT',
      `${what} do not match the graph's parameters: missing [${missing.join(', ')}], unknown [${extra.join(', ')}]; ` +
        'map checkpoint keys to the model\'s (HF keys) and drop the ones it does not train',
      { missing, extra },
    );
  }
  for (const s of specs) paramFromHost(s, values, what);
}

export function paramFromHost(spec: ParamSpec, values: ReadonlyMap<string, Float32Array>, what: string): HostTensor<'float32'> {
  const data = values.get(spec.key);
  if (!data) throw new EngineError('BAD_INPUT', `${what}: no value for '${spec.key}'`, { key: spec.key });
  if (!(data instanceof Float32Array) || data.length !== numel(spec.shape)) {
    throw new EngineError(
      'BAD_INPUT',
      `${what}: '${spec.key}' has ${data.length} values (${data.constructor.name}), the graph wants float32 [${spec.shape.join(', ')}] = ${numel(spec.shape)}`,
      { key: spec.key, shape: spec.shape },
    );
  }
  return { dtype: 'float32', shape: spec.shape, data };
}

/** Host feeds for the graph's data inputs, checked by name, dtype and size. */
export function dataFeeds(
  specs: readonly DataInputSpec[],
  batch: Readonly<Record<string, Int32Array | Float32Array>>,
): Record<string, HostTensor> {
  const known = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(batch).filter((k) => !known.has(k));
  const missing = specs.filter((s) => !(s.name in batch)).map((s) => s.name);
  if (unknown.length || missing.length) {
    throw new EngineError('BAD_INPUT', `batch inputs do not match the graph: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`);
  }
  const feeds: Record<string, HostTensor> = {};
  for (const s of specs) {
    const data = batch[s.name];
    const want = s.dtype === 'int32' ? Int32Array : Float32Array;
    if (!(data instanceof want) || data.length !== numel(s.shape)) {
      throw new EngineError(
        'BAD_INPUT',
        `batch input '${s.name}' has ${data.length} values (${data.constructor.name}); the graph wants ${s.dtype} [${s.shape.join(', ')}]` +
          ' — pad it to the bucket shape with padToBucket',
        { input: s.name, shape: s.shape },
      );
    }
    feeds[s.name] = { dtype: s.dtype, shape: s.shape, data } as HostTensor;
  }
  return feeds;
}

/** The step graph's state inputs and its output → state map ('p.<slot>.next' → 'p.<slot>', same for m and v). */
export function stateNameMaps(slots: readonly StateSlot[]): { inputs: string[]; updates: Record<string, string> } {
  const inputs: string[] = [];
  const updates: Record<string, string> = {};
  for (const s of slots) {
    for (const name of Object.values(stateNames(s.name))) {
      inputs.push(name);
      updates[nextName(name)] = name;
    }
  }
  return { inputs, updates };
}
