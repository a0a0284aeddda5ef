// CoSENT (Su 2022; sentence-transformers' CoSENTLoss) for scored pairs: every pair whose gold
// score is higher should have the higher cosine, log(1 + Σ exp(s_j − s_i)) over those
// orderings. The math: nn/loss.ts cosentLoss and cosentBias.

import { ops as o } from '../../graph/index.js';
import { cosentBias, cosentLoss } from '../../nn/loss.js';
import type { StepLoss } from '../../nn/step-loss.js';
import { tokenFeeds } from '../batch.js';
import type { LossUnit } from './unit.js';

/** Rows [B first texts; B second texts]; 'pair_bias' [B, B] from the gold scores. */
const step: StepLoss = {
  name: 'cosent',
  candidates: false,
  rows: ({ queries: b }) => 2 * b,
  inputs: ({ queries: b }) => [{ name: 'pair_bias', dtype: 'float32', shape: [b, b] }],
  build: ({ shape, inputs, scale }) => (e) => {
    const b = shape.queries;
    const first = o.slice(e, [0], [b], [0]); // [2B, D] -> [B, D]
    const second = o.slice(e, [b], [2 * b], [0]); // [2B, D] -> [B, D]
    return cosentLoss(first, second, inputs.pair_bias, scale);
  },
};

export const cosent: LossUnit = {
  name: 'cosent',
  title: 'CoSENT',
  formats: ['scored'],
  auto: ['scored'],
  doc: 'scored pairs: a pair with a higher gold score should get the higher cosine',
  cite: "Su 2022, CoSENT; sentence-transformers' CoSENTLoss",
  settings: ['temperature', 'learnTemperature', 'matryoshka', 'matryoshkaWeights'],
  step,
  card: 'CoSENT on scored pairs',
  negativesPerQuery: () => 0,

  batch({ examples, templates, tokens, hasTokenTypes }, picks) {
    const rows = picks.map((i) => tokens.ids(templates.query(examples[i].query)));
    for (const i of picks) rows.push(tokens.ids(templates.query(examples[i].positive)));
    const { feeds, length } = tokenFeeds(rows, tokens, hasTokenTypes);
    feeds.pair_bias = cosentBias(picks.map((i) => examples[i].score ?? 0));
    return { feeds, shape: { batch: picks.length, length }, fillers: 0 };
  },
};
