// Parameters read out of flat state buffers (runtime/contract.ts flatSlots): the step graph
// takes one float32 buffer per weight-decay group and slices each parameter out of it, and
// gives back one flat gradient per group, so clipping and AdamW are a few nodes over two
// tensors instead of ~16 per parameter tensor (101 tensors for MiniLM: ~1,600 dispatches).
//
// Neighbours can be read as one tensor (FusedParams: a layer's q, k and v weights, one Gemm
// instead of three); the gradient of each piece goes back to its range of the flat gradient.

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

/** Parameters read as one tensor, concatenated along axis 0 (they must be adjacent in one slot). */
export interface FusedParams {
  /** The name the fused tensor goes by in record() (e.g. 'encoder.layer.0.attention.self.qkv.weight'). */
  name: string;
  keys: readonly string[];
}

export class FlatParams {
  readonly slots: StateSlot[];
  /** The 'p.<slot>' inputs (or whatever `declare` made), one per slot. */
  readonly inputs: Tensor[];
  /** Per parameter key: its slot index and entry. */
  readonly #where = new Map<string, { slot: number; index: number }>();
  readonly #views: View[] = [];
  readonly #byName = new Map<string, Tensor>();
  /** Keys read only through a fused tensor: get() slices them out of it. */
  readonly #inFused = new Map<string, { fused: string; start: number }>();
  /** Per slot: the row width its pieces are split at (rowWidth), 1 for a flat split. */
  readonly #rowWidth: number[] = [];

  /**
   * One Split per slot (a tree of them past 15 pieces) cuts every parameter (or fused group, where all of `fused`'s keys sit
   * next to each other in one slot with the same trailing shape) out of the flat input, then
   * a Reshape per matrix: a Slice per parameter would be ~100 nodes for MiniLM. Where most
   * matrices share a row width (MiniLM's decay slot: every weight but the FFN output is
   * [rows, 384]), the slot is split as [rows, width] instead and only the others are
   * reshaped: 7 Reshapes instead of 27 there, and as many fewer on the gradient side.
   */
  constructor(
    readonly graph: Graph,
    readonly params: readonly ParamSpec[],
    declare: (slot: StateSlot) => Tensor,
    fused: readonly FusedParams[] = [],
  ) {
    this.slots = flatSlots(params);
    this.inputs = this.slots.map(declare);
    this.slots.forEach((s, slot) => s.entries.forEach((e, index) => this.#where.set(e.key, { slot, index })));
    const groupAt = new Map<string, { name: string; entries: StateSlot['entries'] }>();
    for (const f of fused) {
      const w = f.keys.map((k) => this.#where.get(k));
      if (w.some((x) => !x)) continue;
      const first = w[0]!;
      const entries = w.map((x) => this.slots[x!.slot].entries[x!.index]);
      const tail = entries[0].shape.slice(1).join();
      if (!w.every((x, i) => x!.slot === first.slot && x!.index === first.index + i) || !entries.every((e) => e.shape.slice(1).join() === tail)) continue;
      groupAt.set(f.keys[0], { name: f.name, entries });
    }
    this.slots.forEach((slot, s) => {
      const pieces: { start: number; end: number; shape: number[]; names: string[] }[] = [];
      for (let i = 0; i < slot.entries.length; i++) {
        const e = slot.entries[i];
        const group = groupAt.get(e.key);
        if (group) {
          const rows = group.entries.reduce((n, x) => n + x.shape[0], 0);
          const end = e.offset + rows * numel(e.shape.slice(1));
          pieces.push({ start: e.offset, end, shape: [rows, ...e.shape.slice(1)], names: [group.name] });
          let at = 0;
          for (const x of group.entries) {
            this.#inFused.set(x.key, { fused: group.name, start: at });
            at += x.shape[0];
          }
          i += group.entries.length - 1;
        } else {
          pieces.push({ start: e.offset, end: e.offset + numel(e.shape), shape: e.shape, names: [e.key] });
        }
      }
      const used = pieces.length ? pieces[pieces.length - 1].end : 0;
      const sizes = [...pieces.map((p) => p.end - p.start), ...(used < slot.shape[0] ? [slot.shape[0] - used] : [])];
      const width = rowWidth(pieces, used < slot.shape[0]);
      this.#rowWidth[s] = width;
      let parts: Tensor[];
      if (width > 1) {
        // Row view: the used range (the zero tail split off: FLAT_BLOCK need not divide by the
        // width) reshaped to [rows, width] and split along its rows.
        const head = used < slot.shape[0] ? o.split(this.inputs[s], [used, slot.shape[0] - used])[0] : this.inputs[s];
        const rows = o.reshape(head, [used / width, width]); // [used] -> [used / width, width]
        parts = pieces.length === 1 ? [rows] : o.split(rows, pieces.map((p) => (p.end - p.start) / width));
      } else parts = sizes.length === 1 ? [this.inputs[s]] : o.split(this.inputs[s], sizes);
      pieces.forEach((p, i) => {
        const t = o.reshape(parts[i], p.shape); // [n] -> shape (no node for a vector)
        this.#views.push({ slot: s, start: p.start, end: p.end, tensor: t });
        for (const n of p.names) this.#byName.set(n, t);
      });
    });
  }

  /** Whether AdamW's weight decay applies to slot `slot` (one flag per slot, flatSlots' groups). */
  decays(slot: number): boolean {
    const key = this.slots[slot].entries[0].key;
    return this.params.find((p) => p.key === key)!.decay;
  }

  /** Parameter `key` (or a FusedParams name) as a tensor of its own shape. */
  get(key: string): Tensor {
    const t = this.#byName.get(key);
    if (t) return t;
    const f = this.#inFused.get(key);
    const w = this.#where.get(key);
    if (!f || !w) throw new EngineError('INTERNAL', `parameter '${key}' is not in the flat state`);
    // Read on its own although it was fused: a slice of the fused tensor (its gradient flows back there).
    const e = this.slots[w.slot].entries[w.index];
    const sliced = o.slice(this.#byName.get(f.fused)!, [f.start], [f.start + e.shape[0]], [0]);
    this.#byName.set(key, sliced);
    return sliced;
  }

  /** A record whose properties are the parameters and the fused tensors (encoderForward's P); slices made on first read. */
  record(): Readonly<Record<string, Tensor>> {
    const rec: Record<string, Tensor> = {};
    const names = [...this.params.map((p) => p.key), ...[...this.#byName.keys()].filter((n) => !this.#where.has(n))];
    for (const n of names) Object.defineProperty(rec, n, { enumerable: true, get: () => this.get(n) });
    return rec;
  }

  /**
   * dLoss/d(slot) for every slot: each piece's gradient flattened into its range (zeros for
   * pieces the loss never read, and for the zero tail), concatenated.
   */
  gradients(loss: Tensor): Tensor[] {
    const grads = backward(loss, this.#views.map((v) => v.tensor), { allowUnused: true });
    return this.slots.map((slot, s) => {
      const parts: Tensor[] = [];
      const w = this.#rowWidth[s];
      const rows = (n: number): number[] => (w > 1 ? [n / w, w] : [n]);
      this.#views.forEach((v, i) => v.slot === s && parts.push(o.reshape(grads[i], rows(v.end - v.start)))); // [...shape] -> [n] or [n / w, w]
      const used = this.#views.filter((v) => v.slot === s).reduce((n, v) => Math.max(n, v.end), 0);
      const joined = o.reshape(parts.length === 1 ? parts[0] : o.concat(parts, 0), [used]); // [used / w, w] -> [used]
      if (used === slot.shape[0]) return joined;
      return o.concat([joined, o.full(this.graph, [slot.shape[0] - used], 0, 'float32')], 0);
    });
  }

  /** Parameter `key`'s range of a flat tensor shaped as its slot (e.g. a flat gradient), reshaped. */
  entryOf(flat: readonly Tensor[], key: string): Tensor {
    const w = this.#where.get(key)!;
    const e = this.slots[w.slot].entries[w.index];
    return o.reshape(o.slice(flat[w.slot], [e.offset], [e.offset + numel(e.shape)], [0]), e.shape);
  }
}

/**
 * The row width at which a slot's pieces are best split: the trailing size W of one of its
 * matrices such that every piece starts and ends on a multiple of W, when viewing the pieces
 * as [rows, W] needs fewer nodes (a Reshape, a Split more where a zero tail follows them, and
 * a Reshape per piece not already [n, W]) than splitting the slot flat (a Reshape per piece
 * that is not a vector). 1: split flat.
 */
export function rowWidth(pieces: readonly { start: number; end: number; shape: readonly number[] }[], tail: boolean): number {
  const flatCost = pieces.filter((p) => p.shape.length !== 1).length;
  let best = { width: 1, cost: flatCost };
  const widths = new Set(pieces.filter((p) => p.shape.length === 2).map((p) => p.shape[1]));
  for (const w of widths) {
    if (w < 2 || !pieces.every((p) => p.start % w === 0 && p.end % w === 0)) continue;
    const cost = (tail ? 2 : 1) + pieces.filter((p) => !(p.shape.length === 2 && p.shape[1] === w)).length;
    if (cost < best.cost) best = { width: w, cost };
  }
  return best.width;
}
