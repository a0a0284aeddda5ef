// Parameters read out of flat state buffers (runtime/contract.ts flatSlots): the step graph
// takes one float32 buffer per weight-decay group and slices each parameter out of it, and
// gives back one flat gradient per group, so clipping and AdamW are a few nodes over two
// tensors instead of ~16 per parameter tensor (101 tensors for MiniLM: ~1,600 dispatches).
//
// Views are made on first use, so a graph can ask for several neighbours as one tensor (a
// layer's q, k and v weights: one Gemm instead of three) without also holding them one by
// one; the gradient of each view goes back to its range of the flat gradient.

import { EngineError } from '../../../shared/errors.js';
import { numel } from '../graph/dtype.js';
import { type Graph, type Tensor, backward, ops as o } from '../graph/index.js';
import { type ParamSpec, type StateSlot, flatSlots } from '../runtime/contract.js';

interface View {
  slot: number;
  start: number;
  end: number;
  tensor: Tensor;
}

export class FlatParams {
  readonly slots: StateSlot[];
  /** The 'p.<slot>' inputs (or whatever `declare` made), one per slot. */
  readonly inputs: Tensor[];
  /** Per parameter key: its slot index and entry. */
  readonly #where = new Map<string, { slot: number; index: number }>();
  readonly #views: View[] = [];
  readonly #byKey = new Map<string, Tensor>();

  constructor(
    readonly graph: Graph,
    readonly params: readonly ParamSpec[],
    declare: (slot: StateSlot) => Tensor,
  ) {
    this.slots = flatSlots(params);
    this.inputs = this.slots.map(declare);
    this.slots.forEach((s, slot) => s.entries.forEach((e, index) => this.#where.set(e.key, { slot, index })));
  }

  /** Whether AdamW's weight decay applies to slot `slot` (one flag per slot, flatSlots' groups). */
  decays(slot: number): boolean {
    const key = this.slots[slot].entries[0].key;
    return this.params.find((p) => p.key === key)!.decay;
  }

  /** Parameter `key` as a tensor of its own shape (a Slice of its slot, reshaped). */
  get(key: string): Tensor {
    const cached = this.#byKey.get(key);
    if (cached) return cached;
    const w = this.#where.get(key);
    if (!w) throw new EngineError('INTERNAL', `parameter '${key}' is not in the flat state`);
    const e = this.slots[w.slot].entries[w.index];
    const t = this.#view(w.slot, e.offset, e.offset + numel(e.shape), e.shape);
    this.#byKey.set(key, t);
    return t;
  }

  /**
   * Parameters `keys`, adjacent in one slot in this order, concatenated along axis 0 as one
   * tensor (e.g. q, k, v weights [D, D] each -> [3D, D]); null when they are not adjacent or
   * one of them was already read on its own.
   */
  adjacent(keys: readonly string[]): Tensor | null {
    const w = keys.map((k) => this.#where.get(k));
    if (w.some((x) => !x || this.#byKey.has(keys[w.indexOf(x)]))) return null;
    const first = w[0]!;
    if (!w.every((x, i) => x!.slot === first.slot && x!.index === first.index + i)) return null;
    const entries = w.map((x) => this.slots[x!.slot].entries[x!.index]);
    const tail = entries[0].shape.slice(1);
    if (!entries.every((e) => e.shape.slice(1).join() === tail.join())) return null;
    const rows = entries.reduce((s, e) => s + e.shape[0], 0);
    const start = entries[0].offset;
    const t = this.#view(first.slot, start, start + rows * numel(tail), [rows, ...tail]);
    keys.forEach((k) => this.#byKey.set(k, t)); // no second view of the same range
    return t;
  }

  /** A record whose properties are the parameters, each view made when first read (encoderForward's P). */
  record(): Readonly<Record<string, Tensor>> {
    const rec: Record<string, Tensor> = {};
    for (const p of this.params) Object.defineProperty(rec, p.key, { enumerable: true, get: () => this.get(p.key) });
    return rec;
  }

  /**
   * dLoss/d(slot) for every slot: each view's gradient flattened into its range; ranges no
   * view covers (parameters the loss never read) get zeros.
   */
  gradients(loss: Tensor): Tensor[] {
    const grads = backward(loss, this.#views.map((v) => v.tensor), { allowUnused: true });
    return this.slots.map((slot, s) => {
      const mine = this.#views.map((v, i) => ({ ...v, grad: grads[i] })).filter((v) => v.slot === s);
      mine.sort((a, b) => a.start - b.start);
      const parts: Tensor[] = [];
      let at = 0;
      for (const v of mine) {
        if (v.start < at) throw new EngineError('INTERNAL', `views of '${slot.name}' overlap at element ${v.start}`);
        if (v.start > at) parts.push(o.full(this.graph, [v.start - at], 0, 'float32'));
        parts.push(o.reshape(v.grad, [v.end - v.start])); // [...shape] -> [n]
        at = v.end;
      }
      if (at < slot.shape[0]) parts.push(o.full(this.graph, [slot.shape[0] - at], 0, 'float32'));
      return parts.length === 1 ? parts[0] : o.concat(parts, 0);
    });
  }

  /** Parameter `key`'s range of a flat tensor shaped as slot `key`'s (e.g. a flat gradient), reshaped. */
  entryOf(flat: readonly Tensor[], key: string): Tensor {
    const w = this.#where.get(key)!;
    const e = this.slots[w.slot].entries[w.index];
    return o.reshape(o.slice(flat[w.slot], [e.offset], [e.offset + numel(e.shape)], [0]), e.shape);
  }

  #view(slot: number, start: number, end: number, shape: readonly number[]): Tensor {
    const flat = this.inputs[slot];
    const whole = start === 0 && end === flat.shape[0];
    const t = o.reshape(whole ? flat : o.slice(flat, [start], [end], [0]), shape); // [n] -> shape
    this.#views.push({ slot, start, end, tensor: t });
    return t;
  }
}
