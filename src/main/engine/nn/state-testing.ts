// Test helpers: per-key parameter values as a step graph's flat state feeds and back
// (runtime/contract.ts flatSlots), so tests that run a step graph by hand keep their per-key
// references (torch fixtures are per key).

import type { HostTensor } from '../graph/index.js';
import { type ParamSpec, flatSlots, packSlot, unpackSlot } from '../runtime/contract.js';

type Kind = 'p' | 'm' | 'v' | 'acc';

/** Feeds '<kind>.<slot>' for every kind given, packed from per-key values. */
export function flatFeeds(params: readonly ParamSpec[], values: Partial<Record<Kind, ReadonlyMap<string, Float32Array>>>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const slot of flatSlots(params)) {
    for (const [kind, map] of Object.entries(values)) {
      out[`${kind}.${slot.name}`] = { dtype: 'float32', shape: slot.shape, data: packSlot(slot, map) };
    }
  }
  return out;
}

/** Per-key values of `kind` from tensors named '<kind>.<slot><suffix>' (e.g. suffix '.next' for a step's outputs). */
export function flatValues(params: readonly ParamSpec[], tensors: Readonly<Record<string, HostTensor>>, kind: Kind, suffix = ''): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const slot of flatSlots(params)) unpackSlot(slot, tensors[`${kind}.${slot.name}${suffix}`].data as Float32Array, out);
  return out;
}
