// The tensor IR: a Graph owns named inputs, constants, nodes (in topological order, because a
// node can only use tensors that already exist) and outputs. Every tensor has a static dtype
// and shape, inferred when its node is built (infer.ts), so shape mistakes surface at the line
// that makes them rather than inside onnxruntime.

import { EngineError } from '../../../shared/errors.js';
import { type AutocastPolicy, AutocastRegion } from './autocast.js';
import { type DType, type HostTensor, numel, typedArrayFrom } from './dtype.js';
import { inferNode } from './infer.js';
import { type Shape, ShapeError, fmt } from './shape.js';

export type Attr =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string };
export type Attrs = Readonly<Record<string, Attr>>;

export const attr = {
  int: (value: number): Attr => ({ type: 'int', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value: [...value] }),
  float: (value: number): Attr => ({ type: 'float', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
};

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export type TensorKind = 'input' | 'initializer' | 'constant' | 'node';

export class Tensor implements TensorType {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: TensorKind,
    /** The node computing it; null for inputs, initializers and constants. */
    readonly producer: Node | null = null,
    /** The value of an initializer or constant. */
    readonly value: HostTensor | null = null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `'${this.name}' ${this.dtype}${fmt(this.shape)}`;
  }
}

export interface Node {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

export function intAttr(node: Node, name: string, fallback?: number): number {
  const a = node.attrs[name];
  if (a?.type === 'int') return a.value;
  if (a === undefined && fallback !== undefined) return fallback;
  throw new EngineError('INTERNAL', `node '${node.name}' (${node.op}) has no int attribute '${name}'`);
}

export function floatAttr(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a?.type === 'float') return a.value;
  if (a === undefined) return fallback;
  throw new EngineError('INTERNAL', `node '${node.name}' (${node.op}) has a non-float attribute '${name}'`);
}

export function intsAttr(node: Node, name: string): readonly number[] {
  const a = node.attrs[name];
  if (a?.type === 'ints') return a.value;
  throw new EngineError('INTERNAL', `node '${node.name}' (${node.op}) has no ints attribute '${name}'`);
}

export function stringAttr(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  return a?.type === 'string' ? a.value : fallback;
}

export class Graph {
  readonly #inputs: Tensor[] = [];
  readonly #constants: Tensor[] = [];
  readonly #nodes: Node[] = [];
  readonly #outputs: Tensor[] = [];
  readonly #names = new Set<string>();
  readonly #constCache = new Map<string, Tensor>();
  #scope: string[] = [];
  #autocast: AutocastRegion | null = null;

  constructor(readonly name = 'embedsmith') {}

  get inputs(): readonly Tensor[] {
    return this.#inputs;
  }
  /** Initializers and constants, in creation order (both serialise as ONNX initializers). */
  get constants(): readonly Tensor[] {
    return this.#constants;
  }
  get nodes(): readonly Node[] {
    return this.#nodes;
  }
  get outputs(): readonly Tensor[] {
    return this.#outputs;
  }

  /** A value fed at run time (token ids, parameters, optimiser state, per-step scalars). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    checkShape(shape, `input '${name}'`);
    const t = new Tensor(this, this.#claim(name), dtype, [...shape], 'input');
    this.#inputs.push(t);
    return t;
  }

  /** A named value stored in the model (e.g. frozen weights). */
  initializer(name: string, value: HostTensor): Tensor {
    checkValue(value, `initializer '${name}'`);
    const t = new Tensor(this, this.#claim(name), value.dtype, [...value.shape], 'initializer', null, value);
    this.#constants.push(t);
    return t;
  }

  /** An anonymous constant; small ones are shared by value, so asking twice costs nothing. */
  constant(value: HostTensor): Tensor {
    checkValue(value, 'constant');
    const key = numel(value.shape) <= 16 ? `${value.dtype}${fmt(value.shape)}${value.data.join(',')}` : null;
    const cached = key === null ? undefined : this.#constCache.get(key);
    if (cached) return cached;
    const t = new Tensor(this, this.#unique('const'), value.dtype, [...value.shape], 'constant', null, value);
    this.#constants.push(t);
    if (key !== null) this.#constCache.set(key, t);
    return t;
  }

  /** A rank-0 constant of `dtype`. */
  scalar(value: number, dtype: DType): Tensor {
    return this.constant({ dtype, shape: [], data: typedArrayFrom(dtype, [value]) });
  }

  /** A 1-D int64 constant: the shape/axes/starts operand that ONNX requires to be int64. */
  int64s(values: readonly number[]): Tensor {
    return this.constant({ dtype: 'int64', shape: [values.length], data: typedArrayFrom('int64', values) });
  }

  /** Adds a node whose output types are inferred from its inputs and attributes. */
  node(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
    const region = this.#autocast;
    if (region) {
      // The policy's own casts and the node itself are built with autocast paused.
      this.#autocast = null;
      try {
        return region.node(op, inputs, attrs, (op2, inputs2, attrs2) => this.node(op2, inputs2, attrs2));
      } finally {
        this.#autocast = region;
      }
    }
    for (const t of inputs) {
      if (t.graph !== this) {
        throw new EngineError('BAD_INPUT', `${op}: input ${t} belongs to another graph`);
      }
    }
    const name = this.#unique(op);
    let types: TensorType[];
    try {
      types = inferNode(op, inputs, attrs);
    } catch (err) {
      throw nodeError(op, name, inputs, err);
    }
    return this.#push(op, name, inputs, attrs, types);
  }

  /**
   * Adds a node with declared output types and no inference: the escape hatch for rules that
   * know better; `checkGraph` re-infers and rejects a declaration that disagrees.
   */
  rawNode(op: string, inputs: readonly Tensor[], attrs: Attrs, outputs: readonly TensorType[]): Tensor[] {
    return this.#push(op, this.#unique(op), inputs, attrs, outputs);
  }

  /**
   * Marks a graph output. A different `name`, or a tensor no node computes (an input or
   * constant), gets an Identity in front, so every output is a node output with its own name.
   */
  output(t: Tensor, name?: string): Tensor {
    let out = t;
    if ((name !== undefined && name !== t.name) || t.kind !== 'node') {
      const outputs: Tensor[] = [];
      const node: Node = { name: this.#unique('Identity'), op: 'Identity', inputs: [t], outputs, attrs: {} };
      const outName = name === undefined ? this.#unique(`${t.name}_out`) : this.#claim(name);
      out = new Tensor(this, outName, t.dtype, t.shape, 'node', node);
      outputs.push(out);
      this.#nodes.push(node);
    }
    if (this.#outputs.includes(out)) throw new EngineError('BAD_INPUT', `${out} is already an output`);
    this.#outputs.push(out);
    return out;
  }

  /** Runs `fn` with `prefix/` in front of the names it creates (nodes, constants). */
  scope<T>(prefix: string, fn: () => T): T {
    this.#scope.push(prefix);
    try {
      return fn();
    } finally {
      this.#scope.pop();
    }
  }

  /**
   * Runs `fn` with mixed precision (graph/autocast.ts): the nodes it builds get their float
   * inputs cast as `policy` says. Regions do not nest; backward belongs outside one.
   */
  autocast<T>(policy: AutocastPolicy, fn: () => T): T {
    if (this.#autocast) throw new EngineError('INTERNAL', 'autocast regions do not nest');
    this.#autocast = new AutocastRegion(this, policy);
    try {
      return fn();
    } finally {
      this.#autocast = null;
    }
  }

  /** Nodes created by `fn`, taken out of the node list (the legaliser splices them elsewhere). */
  capture(fn: () => void): Node[] {
    const start = this.#nodes.length;
    fn();
    return this.#nodes.splice(start);
  }

  #push(op: string, name: string, inputs: readonly Tensor[], attrs: Attrs, types: readonly TensorType[]): Tensor[] {
    const outputs: Tensor[] = [];
    const node: Node = { name, op, inputs: [...inputs], outputs, attrs };
    types.forEach((ty, i) => {
      const tname = types.length === 1 ? name : `${name}:${i}`;
      outputs.push(new Tensor(this, tname, ty.dtype, [...ty.shape], 'node', node));
    });
    this.#nodes.push(node);
    return outputs;
  }

  #claim(name: string): string {
    if (this.#names.has(name)) throw new EngineError('BAD_INPUT', `the name '${name}' is already used in this graph`);
    this.#names.add(name);
    return name;
  }

  #unique(base: string): string {
    const prefix = this.#scope.length ? `${this.#scope.join('/')}/${base}` : base;
    let name = `${prefix}_${this.#names.size}`;
    while (this.#names.has(name)) name += '_';
    this.#names.add(name);
    return name;
  }
}

export function nodeError(op: string, name: string, inputs: readonly Tensor[], err: unknown): EngineError {
  const msg = err instanceof Error ? err.message : String(err);
  const args = inputs.map(String).join(', ');
  return new EngineError('BAD_INPUT', `${op} node '${name}': ${msg} (inputs: ${args})`, { node: name, op });
}

function checkShape(shape: Shape, what: string): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new EngineError('BAD_INPUT', `${what}: shape ${fmt(shape)} must hold non-negative integers`);
  }
}

function checkValue(value: HostTensor, what: string): void {
  checkShape(value.shape, what);
  if (value.data.length !== numel(value.shape)) {
    throw new EngineError('BAD_INPUT', `${what}: ${value.data.length} values for shape ${fmt(value.shape)}`);
  }
}

export { ShapeError };
