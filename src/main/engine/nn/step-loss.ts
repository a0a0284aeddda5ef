// What a loss adds to the one-graph training step (graphs.ts trainStepGraph): the rows the
// encoder embeds, the loss's own data inputs, and its value from the pooled embeddings. The
// step graph knows no loss by name: each training loss (train/losses/<name>.ts) hands it one
// of these. InfoNCE's lives here rather than in its unit because it is the step's default:
// nn's own tests and the benches build the plain InfoNCE step without a training run, and nn
// does not import train.

import type { Graph, Tensor } from '../graph/index.js';
import { ops as o } from '../graph/index.js';
import type { DataInputSpec } from '../runtime/contract.js';
import type { StepShape } from './graphs.js';
import { type Scale, infoNce } from './loss.js';

export interface StepLossContext {
  g: Graph;
  shape: StepShape;
  /** The loss's own inputs (StepLoss.inputs), by name. */
  inputs: Record<string, Tensor>;
  /** The similarity scale: a fixed temperature, or the learned scale tensor. */
  scale: Scale;
  /** The fixed temperature (InfoNCE's signature takes it beside an optional learned scale). */
  temperature: number;
  learned: Tensor | null;
  symmetric: boolean;
}

export interface StepLoss {
  /** The --loss name, for messages. */
  name: string;
  /** Scores mined negatives and takes a guide's mask: InfoNCE's candidate columns. Other losses refuse N > 0 and a guide. */
  candidates: boolean;
  /** Rows S the encoder embeds per step, in the order the batch feeds them. */
  rows(shape: StepShape): number;
  /** Its float32 data inputs beyond the tokens, declared in this order. */
  inputs(shape: StepShape): DataInputSpec[];
  /**
   * Called once inside the graph's 'loss' scope; returns the loss of pooled embeddings
   * e [S, D]. Matryoshka calls the result once per prefix width (nn/loss.ts matryoshkaLoss).
   */
  build(x: StepLossContext): (e: Tensor) => Tensor;
}

/**
 * InfoNCE (nn/loss.ts infoNce): rows [B queries; B positives; B·N negatives query-major], so
 * the candidate columns are [B positives, B·N negatives] as in sentence-transformers.
 * 'negative_bias' [B·N] masks filler slots (a query with fewer negatives than N), 'guide_bias'
 * [B, B + B·N] a guide model's false negatives (train/guide.ts).
 */
export const INFONCE_STEP: StepLoss = {
  name: 'infonce',
  candidates: true,
  rows: ({ queries: b, negativesPerQuery: n }) => b * (2 + n),
  inputs: ({ queries: b, negativesPerQuery: n, maskNegatives, guided }) => [
    ...(maskNegatives === true && n > 0 ? [{ name: 'negative_bias', dtype: 'float32' as const, shape: [b * n] }] : []),
    ...(guided ? [{ name: 'guide_bias', dtype: 'float32' as const, shape: [b, b * (1 + n)] }] : []),
  ],
  build({ g, shape, inputs, temperature, learned, symmetric }) {
    const { queries: b, negativesPerQuery: n } = shape;
    const rows = b * (2 + n);
    const negBias = inputs.negative_bias;
    const guideBias = inputs.guide_bias;
    // [B] zeros for the positives, then the negatives' bias: [B + B·N]; plus the guide's [B, B + B·N].
    const columns = negBias ? o.concat([o.full(g, [b], 0, 'float32'), negBias], 0) : undefined;
    const bias = guideBias ? (columns ? o.add(guideBias, columns) : guideBias) : columns;
    return (e) => {
      const q = o.slice(e, [0], [b], [0]); // [S, D] -> [B, D]
      const docs = o.slice(e, [b], [rows], [0]); // [S, D] -> [B + B·N, D]
      return infoNce(q, docs, temperature, bias, { scale: learned ?? undefined, symmetric }).loss;
    };
  },
};
