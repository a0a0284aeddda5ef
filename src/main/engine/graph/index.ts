// The graph package's public surface: build a graph, differentiate it, serialise it.

export { type DType, type HostTensor, type TypedArray, DTYPES, hostTensor, isFloat, numel, toNumbers } from './dtype.js';
export { type AutocastPolicy, FLOAT16_AUTOCAST } from './autocast.js';
export { type Attr, type Attrs, type Node, type TensorType, Graph, Tensor, attr } from './graph.js';
export * as ops from './ops.js';
export { type Operand } from './ops.js';
export { type KeepMask, addAll, dropout, gelu, layerNorm, logSoftmax } from './composites.js';
export { type BackwardOptions, backward } from './backward.js';
export { type GradContext, type GradRule, GRADIENTS } from './gradients.js';
export { checkGraph } from './check.js';
export { IR_VERSION, type SerializeOptions, serialize } from './serialize.js';
export { OPSET } from './infer.js';
export type { Shape } from './shape.js';
