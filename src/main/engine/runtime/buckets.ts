// Shape buckets: every distinct (batch, length) costs a graph build and a session (DESIGN
// §3), so sequences are padded up to a few lengths and batches up to a few sizes. Padding
// costs FLOPs (the WebGPU path is compute-bound), which is why the length buckets double.

import { EngineError } from '../../../shared/errors.js';

export interface BucketShape {
  batch: number;
  length: number;
}

export const LENGTH_BUCKETS: readonly number[] = [16, 32, 64, 128, 256, 512];

/** The smallest bucket holding `n`; an error naming the fix when `n` exceeds the largest. */
export function bucketFor(n: number, buckets: readonly number[], what = 'length'): number {
  if (!Number.isInteger(n) || n < 0) throw new EngineError('BAD_INPUT', `${what} ${n} must be a non-negative integer`);
  const sorted = [...buckets].sort((a, b) => a - b);
  const b = sorted.find((x) => x >= n);
  if (b === undefined) {
    throw new EngineError(
      'BAD_INPUT',
      `${what} ${n} is larger than the largest bucket ${sorted[sorted.length - 1]}; truncate first (--max-length) or add a bucket`,
      { [what]: n, buckets: sorted },
    );
  }
  return b;
}

export interface PadOptions {
  /** Length buckets (default LENGTH_BUCKETS), or one fixed length. */
  lengths?: readonly number[] | number;
  /** Batch buckets, or one fixed batch size; default: the number of rows (no batch padding). */
  batch?: readonly number[] | number;
  /** Value written into padding per input (default 0: [PAD] id, attention mask 0). */
  padValue?: Readonly<Record<string, number>>;
}

export interface PaddedBatch {
  /** Each input as int32 [batch, length], row-major, padded. */
  data: Record<string, Int32Array>;
  shape: BucketShape;
  /** Real rows; rows from `rows` to `shape.batch` are all padding. */
  rows: number;
  /** Each real row's unpadded length. */
  lengths: number[];
}

/**
 * Pads ragged rows (per input: one array of ids per row, all inputs with the same row
 * lengths) into a bucket shape. Padded rows are all `padValue`, so attention_mask is 0
 * there: graphs must give such rows no weight in the loss (nn's job, not this one's).
 */
export function padToBucket(rows: Readonly<Record<string, readonly ArrayLike<number>[]>>, opts: PadOptions = {}): PaddedBatch {
  const names = Object.keys(rows);
  if (names.length === 0) throw new EngineError('BAD_INPUT', 'padToBucket needs at least one input');
  const n = rows[names[0]].length;
  const lengths = rows[names[0]].map((r) => r.length);
  for (const name of names) {
    if (rows[name].length !== n) {
      throw new EngineError('BAD_INPUT', `input '${name}' has ${rows[name].length} rows, '${names[0]}' has ${n}`);
    }
    const bad = rows[name].findIndex((r, i) => r.length !== lengths[i]);
    if (bad >= 0) {
      throw new EngineError('BAD_INPUT', `row ${bad}: '${name}' has ${rows[name][bad].length} tokens, '${names[0]}' has ${lengths[bad]}`);
    }
  }
  const longest = Math.max(0, ...lengths);
  const length = typeof opts.lengths === 'number' ? fixed(longest, opts.lengths, 'length') : bucketFor(longest, opts.lengths ?? LENGTH_BUCKETS);
  const batch =
    opts.batch === undefined ? n : typeof opts.batch === 'number' ? fixed(n, opts.batch, 'batch') : bucketFor(n, opts.batch, 'batch');
  const data: Record<string, Int32Array> = {};
  for (const name of names) {
    const out = new Int32Array(batch * length).fill(opts.padValue?.[name] ?? 0);
    rows[name].forEach((r, i) => out.set(r, i * length));
    data[name] = out;
  }
  return { data, shape: { batch, length }, rows: n, lengths };
}

function fixed(n: number, size: number, what: string): number {
  if (n > size) throw new EngineError('BAD_INPUT', `${what} ${n} exceeds the fixed ${what} ${size}; truncate or split first`);
  return size;
}
