// Dropout keep masks computed inside the step graph from a counter-based hash of (key, site,
// element), so nothing is drawn in JS or uploaded: the runtime feeds one int32 per step,
// 'dropout_key' = mixSeed(seed, step) (runtime/dropout.ts dropoutKey), and gradient caching's
// chunk graphs also 'dropout_row0', the chunk's first batch row, so a chunk's masks are the
// rows of the one-graph step's masks.
//
// The hash is a 32-bit variant of Widynski's "Squares" counter-based generator (2020,
// arXiv:2004.06278): y = e·K1 + site·K2 + key (a Weyl sequence in the element index e), then
// three rounds of x = rot16(x·x + y) and a last x·x + y. The WebGPU EP has no bitwise ops
// (no BitwiseXor/And/Or, no BitShift), so the rotation is built from int32 Div and Mul, which
// it has: rot16(x) = trunc(x / 2^16) + x·2^16, wrapping. With int32's truncating division
// that is a rotation up to the sign of the high half, which is all a mixing step needs; both
// EPs and the JS reference (keepReference) compute the same bits. A site keeps an element
// when the hash, read as a number in [-2^31, 2^31), lies below (1-p)·2^32 - 2^31.
//
// Sites of one shape are hashed as one [sites, ...shape] tensor (about 20 nodes per shape, two
// shapes in BERT), then sliced: a per-site chain would cost ~20 dispatches per site.

import { EngineError } from '../../../shared/errors.js';
import { type Graph, type KeepMask, type Tensor, numel, ops as o } from '../graph/index.js';
import type { DropoutSpec } from '../runtime/contract.js';

export const DROPOUT_KEY = 'dropout_key';
export const DROPOUT_ROW0 = 'dropout_row0';

const K1 = 0x9e3779b1 | 0;
const K2 = 0x632be5ab | 0;
const ROUNDS = 3;

/** The keep decision of element `e` of site `site` under `key`: what the graph computes, in JS (tests' reference). */
export function keepReference(key: number, site: number, e: number, p: number): boolean {
  const y = (Math.imul(e, K1) + Math.imul(site, K2) + key) | 0;
  const rot = (x: number) => (((x / 65536) | 0) + Math.imul(x, 65536)) | 0;
  let x = y;
  for (let r = 0; r < ROUNDS; r++) x = rot((Math.imul(x, x) + y) | 0);
  return Math.fround((Math.imul(x, x) + y) | 0) < Math.fround(threshold(p));
}

function threshold(p: number): number {
  if (!(p > 0 && p < 1)) throw new EngineError('BAD_INPUT', `dropout p = ${p} must be in (0, 1)`);
  return (1 - p) * 2 ** 32 - 2 ** 31;
}

/**
 * Keep masks for `sites` (all of the graph's, in order: a site's index is its hash input),
 * made on first request per shape. `rows` is the batch rows of this graph; a site's first axis
 * is a multiple of it (B or B·L), so a chunk starting at batch row r0 starts there at r0·f.
 */
export class DeviceDropout {
  readonly key: Tensor;
  readonly row0: Tensor | null;
  readonly #masks = new Map<string, Tensor>();

  constructor(
    readonly graph: Graph,
    readonly sites: readonly DropoutSpec[],
    readonly rows: number,
    chunked: boolean,
  ) {
    this.key = graph.input(DROPOUT_KEY, 'int32', []);
    this.row0 = chunked ? graph.input(DROPOUT_ROW0, 'int32', []) : null;
  }

  mask(name: string, shape: readonly number[], p: number): KeepMask {
    const site = this.sites.find((s) => s.name === name);
    if (!site || site.shape.join() !== shape.join() || site.p !== p) {
      throw new EngineError('INTERNAL', `dropout site '${name}' [${shape.join(', ')}] p ${p} was not declared (dropoutSites must list what encoderForward asks for)`);
    }
    if (!this.#masks.has(name)) this.#build(shape);
    return { keep: this.#masks.get(name)!, p };
  }

  #build(shape: readonly number[]): void {
    const g = this.graph;
    const group = this.sites.map((s, i) => ({ ...s, index: i })).filter((s) => s.shape.join() === shape.join());
    const n0 = shape[0];
    const inner = numel(shape) / n0;
    const ones = shape.slice(1).map(() => 1);
    const int32 = (dims: number[], values: number[]) => g.constant({ dtype: 'int32', shape: dims, data: Int32Array.from(values) });
    const stride = Math.imul(inner, K1); // e = row·inner + j, so e·K1 = row·stride + j·K1 (mod 2^32)
    let rowTerm: Tensor;
    if (this.row0) {
      const f = n0 / this.rows;
      const local = int32([n0, ...ones], Array.from({ length: n0 }, (_, r) => r));
      rowTerm = o.mul(o.add(local, o.mul(this.row0, f)), stride); // [n0, 1..]: (row0·f + r)·stride
    } else {
      rowTerm = int32([n0, ...ones], Array.from({ length: n0 }, (_, r) => Math.imul(r, stride)));
    }
    const innerC = int32([1, ...shape.slice(1)], Array.from({ length: inner }, (_, j) => Math.imul(j, K1)));
    const siteC = int32([group.length, 1, ...ones], group.map((s) => Math.imul(s.index, K2)));
    const y = o.add(o.add(rowTerm, innerC), o.add(siteC, this.key)); // [sites, ...shape]
    let x = y;
    for (let r = 0; r < ROUNDS; r++) {
      const sq = o.add(o.mul(x, x), y);
      x = o.add(o.div(sq, 65536), o.mul(sq, 65536)); // rot16, from the int32 ops the WebGPU EP has
    }
    x = o.add(o.mul(x, x), y);
    // [sites, n0, ...] -> [sites·n0, ...]: one Reshape, and the Split along rows gives each
    // site its own shape (a Reshape per site otherwise).
    const u = o.reshape(o.cast(x, 'float32'), [group.length * n0, ...shape.slice(1)]);
    // Split while float32 (the kernels the placement test has seen on WebGPU), compared per site.
    const parts = group.length === 1 ? [u] : o.split(u, group.map(() => n0), 0);
    group.forEach((s, i) => this.#masks.set(s.name, o.less(parts[i], threshold(s.p)))); // shape, bool
  }
}
