// InfoNCE (van den Oord et al. 2018, "Representation Learning with Contrastive Predictive
// Coding") as sentence-transformers' MultipleNegativesRankingLoss with hard negatives: each
// query against every positive and every mined negative of the batch, cross entropy against
// its own positive. --symmetric adds the positives → queries direction
// (MultipleNegativesSymmetricRankingLoss), --guide masks a guide model's false negatives
// (GISTEmbed, train/guide.ts), --grad-cache embeds the batch in chunks (Gao et al. 2021).
// The graph: nn/step-loss.ts INFONCE_STEP over nn/loss.ts infoNce.

import { EngineError } from '../../../../shared/errors.js';
import { NEGATIVE_FILL } from '../../nn/graphs.js';
import { INFONCE_STEP } from '../../nn/step-loss.js';
import { tokenFeeds } from '../batch.js';
import type { LossUnit } from './unit.js';

export const infonce: LossUnit = {
  name: 'infonce',
  title: 'InfoNCE',
  formats: ['pairs', 'triplets', 'scored'],
  auto: ['pairs', 'triplets'],
  doc: 'each query against every positive and mined negative in the batch; --symmetric, --guide, --grad-cache',
  cite: "van den Oord et al. 2018; sentence-transformers' MultipleNegativesRankingLoss",
  settings: ['temperature', 'learnTemperature', 'symmetric', 'negatives', 'guide', 'guideMargin', 'guideMarginStrategy', 'gradCacheRows', 'matryoshka', 'matryoshkaWeights'],
  step: INFONCE_STEP,
  card: "InfoNCE (sentence-transformers' MultipleNegativesRankingLoss): cosine similarity / temperature, in-batch negatives",

  negativesPerQuery: (examples) => examples.reduce((m, e) => Math.max(m, e.negatives.length), 0),

  /**
   * Rows [B queries; B positives; B·N negatives query-major], padded to one length bucket. A
   * query with fewer negatives than N gets filler rows (the empty text) whose scores
   * 'negative_bias' masks (NEGATIVE_FILL), which leaves the loss exactly as without the slots.
   */
  batch({ examples, templates, tokens, hasTokenTypes, negativesPerQuery: n, masked, guide, guideRule }, picks) {
    const b = picks.length;
    const filler = tokens.ids(templates.document(''));
    const rows: number[][] = [];
    for (const i of picks) rows.push(tokens.ids(templates.query(examples[i].query)));
    for (const i of picks) rows.push(tokens.ids(templates.document(examples[i].positive)));
    const bias = new Float32Array(b * n);
    let fillers = 0;
    picks.forEach((i, q) => {
      const negs = examples[i].negatives;
      for (let j = 0; j < n; j++) {
        if (j < negs.length) rows.push(tokens.ids(templates.document(negs[j])));
        else {
          rows.push(filler);
          bias[q * n + j] = NEGATIVE_FILL;
          fillers++;
        }
      }
    });
    const { feeds, length } = tokenFeeds(rows, tokens, hasTokenTypes);
    if (masked) feeds.negative_bias = bias;
    const guided = guide ? guide.stepBias(examples, picks, n, templates, guideRule) : null;
    if (guided) feeds.guide_bias = guided.bias;
    return { feeds, shape: { batch: b, length }, fillers, ...(guided ? { guideMasked: guided.masked } : {}) };
  },

  check(s) {
    if (s.gradCacheRows && (s.learnTemperature || s.symmetric || s.matryoshka || s.guide)) {
      throw new EngineError('BAD_INPUT', '--grad-cache works with plain InfoNCE only (not with --learn-temperature, --symmetric, --matryoshka or --guide); drop one of them', { setting: 'grad-cache' });
    }
  },

  /** MultipleNegativesRankingLoss; --symmetric adds its doc → query direction, averaged (per_direction); --grad-cache is the cached variant, which gives the same gradients. */
  recipe(s) {
    if (s.learnTemperature) {
      throw new EngineError('UNSUPPORTED', `the run learned its temperature (--learn-temperature); sentence-transformers' MultipleNegativesRankingLoss has a fixed scale. Fix: train with a fixed --temperature (e.g. the learned one from metrics.jsonl) and export that run.`, { setting: 'learn-temperature' });
    }
    if (s.guide !== null) {
      throw new EngineError('UNSUPPORTED', `the run used a guide model (--guide ${s.guide}); sentence-transformers' GISTEmbedLoss adds query–query and positive–positive candidates that the Embedsmith run did not, so the recipe would train another loss. Fix: export a run without --guide.`, { setting: 'guide' });
    }
    // One process: the loss sees the step's whole batch. Several: gathering keeps every query's candidates the global batch's.
    const kwargs: Record<string, unknown> = { scale: 1 / s.temperature, gather_across_devices: true };
    if (s.symmetric) Object.assign(kwargs, { directions: ['query_to_doc', 'doc_to_query'], partition_mode: 'per_direction' });
    if (s.gradCacheRows) kwargs.mini_batch_size = s.gradCacheRows;
    return { name: s.gradCacheRows ? 'CachedMultipleNegativesRankingLoss' : 'MultipleNegativesRankingLoss', kwargs };
  },

  recipeNote({ name, kwargs: k }, b) {
    return (
      `${name}, scale ${String(k.scale)} (1 / temperature)${k.directions ? ', both directions averaged (--symmetric)' : ''}` +
      `${k.mini_batch_size ? `, embedding ${String(k.mini_batch_size)} rows at a time (--grad-cache)` : ''}: each query against every positive and every ` +
      `mined negative of the whole ${b}-query step. Each of P processes gets ${b}/P queries and \`gather_across_devices=True\` makes the candidates ` +
      "the global batch's, as in Embedsmith, for an all-gather per step (on GPUs: CPU processes talk through gloo, which cannot send those gradients back)."
    );
  },
};
