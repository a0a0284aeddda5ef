// What every loss's batches share (train/losses/<name>.ts builds its own rows and feeds): the
// templates by role, the token feeds padded to one length bucket, and the step's inputs.

import { LENGTH_BUCKETS, padToBucket } from '../runtime/index.js';
import type { Example, TokenCache } from './examples.js';
import type { Guide, GuideRule } from './guide.js';

export interface Templates {
  query: (text: string) => string;
  document: (text: string) => string;
}

export interface StepBatch {
  feeds: Record<string, Int32Array | Float32Array>;
  shape: { batch: number; length: number };
  /** Filler negative slots in this batch. */
  fillers: number;
  /** With a guide model: in-batch candidates it masked (StepRecord.guideMasked). */
  guideMasked?: number;
}

/** What a loss's batch builder reads besides the step's picks: fixed for the run. */
export interface BatchInput {
  examples: readonly Example[];
  templates: Templates;
  tokens: TokenCache;
  hasTokenTypes: boolean;
  /** N: negatives per query in the step graph (RunPlan.negativesPerQuery), and whether some queries have fewer. */
  negativesPerQuery: number;
  masked: boolean;
  /** The frozen guide model (--guide), or null. */
  guide: Guide | null;
  guideRule: GuideRule;
}

/** Length buckets capped at the run's max length (which is always a bucket itself). */
export function lengthBuckets(maxLength: number): number[] {
  return [...LENGTH_BUCKETS.filter((b) => b < maxLength), maxLength];
}

/** input_ids, attention_mask (and token_type_ids) of token rows, padded to the shortest bucket that holds them. */
export function tokenFeeds(rows: readonly number[][], tokens: TokenCache, hasTokenTypes: boolean): { feeds: StepBatch['feeds']; length: number } {
  const input = {
    input_ids: rows,
    attention_mask: rows.map((r) => new Array<number>(r.length).fill(1)),
    ...(hasTokenTypes ? { token_type_ids: rows.map((r) => new Array<number>(r.length).fill(0)) } : {}),
  };
  const padded = padToBucket(input, { lengths: lengthBuckets(tokens.maxLength), padValue: { input_ids: tokens.tokenizer.padId } });
  return { feeds: { ...padded.data }, length: padded.shape.length };
}
