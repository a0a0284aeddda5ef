// Supervised contrastive loss (Khosla et al. 2020, "Supervised Contrastive Learning", the L_out
// form) for labelled texts: each text against every other text of the batch, its positives
// the texts with its label. The sampler keeps same-label texts together in pairs so that most
// anchors have a positive. The math: nn/loss.ts supConLoss and supConWeights.

import { supConLoss, supConWeights } from '../../nn/loss.js';
import type { StepLoss } from '../../nn/step-loss.js';
import { tokenFeeds } from '../batch.js';
import type { LossUnit } from './unit.js';

/** Rows [B texts]; 'pair_weights' [B, B] from the labels. */
const step: StepLoss = {
  name: 'supcon',
  candidates: false,
  rows: ({ queries: b }) => b,
  inputs: ({ queries: b }) => [{ name: 'pair_weights', dtype: 'float32', shape: [b, b] }],
  build: ({ inputs, scale }) => (e) => supConLoss(e, inputs.pair_weights, scale),
};

export const supcon: LossUnit = {
  name: 'supcon',
  title: 'SupCon',
  formats: ['labeled'],
  auto: ['labeled'],
  doc: 'labelled texts: each text against the batch, its positives the texts with its label',
  cite: 'Khosla et al. 2020, "Supervised Contrastive Learning"',
  settings: ['temperature', 'learnTemperature', 'matryoshka', 'matryoshkaWeights'],
  step,
  card: 'supervised contrastive loss (Khosla et al. 2020) on label-grouped batches',
  negativesPerQuery: () => 0,
  labels: (examples) => examples.map((e) => e.label ?? ''),

  batch({ examples, templates, tokens, hasTokenTypes }, picks) {
    const rows = picks.map((i) => tokens.ids(templates.query(examples[i].query)));
    const { feeds, length } = tokenFeeds(rows, tokens, hasTokenTypes);
    feeds.pair_weights = supConWeights(picks.map((i) => examples[i].label ?? ''));
    return { feeds, shape: { batch: picks.length, length }, fillers: 0 };
  },
};

