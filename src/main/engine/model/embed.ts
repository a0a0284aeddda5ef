// Texts → sentence embeddings with a model from open-model.ts. Texts are sorted by token
// length first, so each batch holds texts of similar length and pads only to ITS longest one
// (exactly, on the CPU's dynamic-shape session; to the next length bucket where sessions
// have static shapes, DESIGN §3) rather than to the corpus's longest: padding is pure wasted
// FLOPs, quadratic in attention. Results come back in input order whatever order they ran in.
import { EngineError } from '../../../shared/errors.js';
import { embeddingWidth } from '../nn/index.js';
import { padToBucket } from '../runtime/index.js';
import { positionLimit } from './load.js';
import type { EmbeddingModel } from './open-model.js';
import type { SentenceConfig } from './sentence-config.js';

export type EmbedRole = 'query' | 'document' | 'text';

export interface EmbedProgress {
  done: number;
  total: number;
  /** Texts per second since the call started (session creation included). */
  textsPerSec: number;
}

export interface EmbedOptions {
  /** Picks the instruction template from the model's prompts (default 'text'). */
  role?: EmbedRole;
  /** An explicit prefix, overriding the role's template ('' for none). */
  prompt?: string;
  /** Texts per session run (default 32). */
  batchSize?: number;
  /** Truncate to this many tokens, special tokens included (default: the tokenizer's). */
  maxLength?: number;
  onProgress?: (p: EmbedProgress) => void;
  signal?: AbortSignal;
  /** Run in length order (default true); false keeps input order (the bench's naive baseline). */
  sortByLength?: boolean;
  /** Pad every batch to this one length instead of a bucket (the bench's fixed-padding baseline). */
  padTo?: number;
  /** Length buckets (default: exact lengths on a dynamic-shape CPU session, else EMBED_LENGTH_BUCKETS; capped at maxLength). */
  lengthBuckets?: readonly number[];
}

export interface EmbedResult {
  /** float32 [N, D], row i = texts[i]. */
  embeddings: Float32Array;
  dim: number;
  /** Input indices of texts cut to maxLength (reported, never silent). */
  truncated: number[];
  /** The prefix put in front of every text. */
  prompt: string;
}

/**
 * Lengths a batch is padded to. Steps of ~√2 rather than runtime's doubling LENGTH_BUCKETS:
 * a doubling ladder wastes ~1/3 of every batch on average, √2 steps ~1/6, for a few more
 * sessions (each ~250 ms to create on the CPU, paid once per job). bench/embed measures both.
 */
export const EMBED_LENGTH_BUCKETS: readonly number[] = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

/** sentence-transformers' prompt names for a document; E5-style models say 'passage'. */
const DOCUMENT_PROMPTS = ['document', 'passage', 'corpus', 'doc'];

/**
 * The prefix for a role, as sentence-transformers' encode_query / encode_document pick it:
 * the role's named prompt if the model has one, else the default prompt, else none.
 */
export function rolePrompt(sentence: Pick<SentenceConfig, 'prompts' | 'defaultPromptName'>, role: EmbedRole): string {
  const names = role === 'query' ? ['query'] : role === 'document' ? DOCUMENT_PROMPTS : [];
  for (const n of names) if (n in sentence.prompts) return sentence.prompts[n];
  return sentence.defaultPromptName ? sentence.prompts[sentence.defaultPromptName] : '';
}

export async function embed(model: EmbeddingModel, texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array> {
  return (await embedTexts(model, texts, opts)).embeddings;
}

export async function embedTexts(model: EmbeddingModel, texts: readonly string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
  const prompt = opts.prompt ?? rolePrompt(model.loaded.sentence, opts.role ?? 'text');
  if (prompt !== '' && !model.loaded.sentence.includePrompt) {
    // include_prompt=false drops the prompt's tokens from mean pooling only; our graph pools
    // over the attention mask, so it would silently include them.
    throw new EngineError(
      'UNSUPPORTED',
      `${model.dir}: 1_Pooling/config.json sets include_prompt=false, which Embedsmith's pooling does not implement; embed without a prompt (prompt '') or use another model`,
      { dir: model.dir },
    );
  }
  const maxLength = checkMaxLength(model, opts.maxLength ?? model.tokenizer.maxLength);
  const truncated: number[] = [];
  const ids = texts.map((t, i) => {
    const r = model.tokenizer.encode(prompt + t, maxLength);
    if (r.truncated) truncated.push(i);
    return r.ids;
  });
  const embeddings = await embedTokens(model, ids, { ...opts, maxLength });
  return { embeddings, dim: model.dim, truncated, prompt };
}

/**
 * Embeddings of already tokenised rows (special tokens included, no padding): every id
 * attends, token types are 0. The tokenizer-free path, for tests against reference ids.
 */
export async function embedTokens(model: EmbeddingModel, rows: readonly ArrayLike<number>[], opts: EmbedOptions = {}): Promise<Float32Array> {
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EngineError('BAD_INPUT', `batch size ${batchSize} must be a positive integer, e.g. 32`, { batchSize });
  }
  const maxLength = checkMaxLength(model, opts.maxLength ?? model.tokenizer.maxLength);
  const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
  if (longest > maxLength) {
    const at = rows.findIndex((r) => r.length === longest);
    throw new EngineError('BAD_INPUT', `row ${at} has ${longest} tokens, more than the max length ${maxLength}; truncate it first`, { row: at });
  }
  if (opts.padTo !== undefined) checkMaxLength(model, opts.padTo, 'padTo');
  // A dynamic-shape session on the CPU pads each batch only to its own longest row: a new shape
  // costs nothing there. Static sessions, and GPUs (a new shape can mean new kernels), use buckets.
  const exact = model.dynamicShapes && model.device === 'cpu';
  const buckets = opts.lengthBuckets ?? (exact ? null : EMBED_LENGTH_BUCKETS);
  const lengths = buckets ? [...buckets.filter((b) => b < maxLength), maxLength] : Array.from({ length: maxLength }, (_, i) => i + 1);
  const batchBuckets = exact ? Array.from({ length: batchSize }, (_, i) => i + 1) : [...[1, 2, 4, 8, 16, 32, 64, 128, 256].filter((b) => b < batchSize), batchSize];
  const hasTypes = model.spec.typeVocabSize > 1;
  // The encoder returns the full width; a model opened with fewer dims keeps each row's first D
  // (Matryoshka truncation), re-normalised when the model normalises (sentence-transformers'
  // truncate_dim followed by normalisation).
  const full = embeddingWidth(model.spec);
  const D = model.dim;
  const out = new Float32Array(rows.length * D);
  const order = rows.map((_, i) => i);
  // Longest first: the biggest shape runs (and fails, if memory is short) at the start.
  if (opts.sortByLength ?? true) order.sort((a, b) => rows[b].length - rows[a].length || a - b);
  const t0 = performance.now();
  for (let start = 0; start < order.length; start += batchSize) {
    throwIfCancelled(opts.signal, start, rows.length);
    const idx = order.slice(start, start + batchSize);
    const batchRows = idx.map((i) => rows[i]);
    const inputs: Record<string, ArrayLike<number>[]> = {
      input_ids: batchRows,
      attention_mask: batchRows.map((r) => new Int32Array(r.length).fill(1)),
    };
    if (hasTypes) inputs.token_type_ids = batchRows.map((r) => new Int32Array(r.length));
    const padded = padToBucket(inputs, {
      lengths: opts.padTo ?? lengths,
      batch: batchBuckets,
      // RoBERTa counts positions from the pad id, so padding must be the real pad id.
      padValue: { input_ids: model.tokenizer.padId },
    });
    const emb = await model.encoder.embed(padded.data, padded.shape);
    idx.forEach((i, r) => {
      const row = emb.subarray(r * full, r * full + D);
      out.set(row, i * D);
      if (D < full && model.spec.normalize) normalizeRow(out.subarray(i * D, (i + 1) * D));
    });
    const done = Math.min(start + batchSize, rows.length);
    opts.onProgress?.({ done, total: rows.length, textsPerSec: done / Math.max((performance.now() - t0) / 1000, 1e-9) });
  }
  return out;
}

function checkMaxLength(model: EmbeddingModel, n: number, what = 'max length'): number {
  const limit = positionLimit(model.loaded.config);
  const specials = model.tokenizer.prefixIds.length + model.tokenizer.suffixIds.length;
  if (!Number.isInteger(n) || n <= specials || n > limit) {
    throw new EngineError('BAD_INPUT', `${what} ${n} must be an integer from ${specials + 1} to ${limit} (the model's position limit)`, { [what]: n });
  }
  return n;
}

function throwIfCancelled(signal: AbortSignal | undefined, done: number, total: number): void {
  if (signal?.aborted) throw new EngineError('CANCELLED', `embedding cancelled after ${done} of ${total} texts`, { done, total });
}

/** Scales a row to unit L2 norm in place (a zero row stays zero). */
function normalizeRow(row: Float32Array): void {
  let ss = 0;
  for (let k = 0; k < row.length; k++) ss += row[k]! * row[k]!;
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  for (let k = 0; k < row.length; k++) row[k] = row[k]! * inv;
}
