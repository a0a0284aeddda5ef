// One step's feeds (nn/graphs.ts trainStepGraph's row layout): rows are [B queries; B
// positives; B·N negatives query-major], padded to one length bucket. A query with fewer
// negatives than N gets filler rows (the empty text) whose scores are masked out by
// 'negative_bias' (NEGATIVE_FILL), which leaves the loss exactly as without the slots.

import { NEGATIVE_FILL } from '../nn/graphs.js';
import { cosentBias, supConWeights } from '../nn/loss.js';
import { LENGTH_BUCKETS, padToBucket } from '../runtime/index.js';
import type { Example, TokenCache } from './examples.js';

export interface Templates {
  query: (text: string) => string;
  document: (text: string) => string;
}

export interface StepBatch {
  feeds: Record<string, Int32Array | Float32Array>;
  shape: { batch: number; length: number };
  /** Filler negative slots in this batch. */
  fillers: number;
}

/** Length buckets capped at the run's max length (which is always a bucket itself). */
export function lengthBuckets(maxLength: number): number[] {
  return [...LENGTH_BUCKETS.filter((b) => b < maxLength), maxLength];
}

export function stepBatch(
  examples: readonly Example[],
  picks: readonly number[],
  n: number,
  masked: boolean,
  templates: Templates,
  tokens: TokenCache,
  hasTokenTypes: boolean,
): StepBatch {
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
  const input = {
    input_ids: rows,
    attention_mask: rows.map((r) => new Array<number>(r.length).fill(1)),
    ...(hasTokenTypes ? { token_type_ids: rows.map((r) => new Array<number>(r.length).fill(0)) } : {}),
  };
  const padded = padToBucket(input, { lengths: lengthBuckets(tokens.maxLength), padValue: { input_ids: tokens.tokenizer.padId } });
  const feeds: Record<string, Int32Array | Float32Array> = { ...padded.data };
  if (masked) feeds.negative_bias = bias;
  return { feeds, shape: { batch: b, length: padded.shape.length }, fillers };
}

/** Rows [B texts] (supcon, with the label weights) or [B first; B second] (cosent, with the gold-order bias). */
export function pairLossBatch(
  kind: 'supcon' | 'cosent',
  examples: readonly Example[],
  picks: readonly number[],
  template: (text: string) => string,
  tokens: TokenCache,
  hasTokenTypes: boolean,
): StepBatch {
  const rows: number[][] = picks.map((i) => tokens.ids(template(examples[i].query)));
  if (kind === 'cosent') for (const i of picks) rows.push(tokens.ids(template(examples[i].positive)));
  const input = {
    input_ids: rows,
    attention_mask: rows.map((r) => new Array<number>(r.length).fill(1)),
    ...(hasTokenTypes ? { token_type_ids: rows.map((r) => new Array<number>(r.length).fill(0)) } : {}),
  };
  const padded = padToBucket(input, { lengths: lengthBuckets(tokens.maxLength), padValue: { input_ids: tokens.tokenizer.padId } });
  const feeds: Record<string, Int32Array | Float32Array> = { ...padded.data };
  if (kind === 'supcon') feeds.pair_weights = supConWeights(picks.map((i) => examples[i].label ?? ''));
  else feeds.pair_bias = cosentBias(picks.map((i) => examples[i].score ?? 0));
  return { feeds, shape: { batch: picks.length, length: padded.shape.length }, fillers: 0 };
}
