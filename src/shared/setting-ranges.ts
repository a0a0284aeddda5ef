// The documented range of every numeric setting of train, pretrain, mine and eval, in one
// place (issue 14: non-finite and absurd values were accepted — `--weight-decay Infinity` gave
// NaN weights, `--max-steps 1e8` filled memory, `--threads 1000` never finished a step). The
// engine's checks and the CLI both read this table, so a range is written once; each entry says
// why its bounds are where they are. A value outside its range is BAD_INPUT (exit 2) naming the
// setting, the value and the range. (Issue 16 grows this into the one settings table, with
// defaults, flags, help and resume rules beside the ranges.)

export interface SettingRange {
  /** The command-line flag, without '--'. */
  flag: string;
  min: number;
  /** `min` itself is not allowed (a rate or temperature of 0). */
  minExclusive?: boolean;
  /** A number, or a rule on the machine's core count (threads). */
  max: number | ((ctx: RangeContext) => number);
  integer?: boolean;
  /** Infinity is a meaningful value here (max-grad-norm: clipping off). */
  infinityAllowed?: boolean;
  /** Why these bounds: shown in the refusal. */
  why: string;
}

export interface RangeContext {
  /** Logical CPU cores of this machine (os.availableParallelism()). */
  cores: number;
}

// Plans, metrics lines and checkpoints grow with the step count: ten million steps is weeks of
// GPU time at the fastest step measured (DESIGN §3), so more is a typo, not a plan.
const MAX_STEPS = 10_000_000;
const STEPS_WHY = 'ten million steps is weeks of training at the fastest step measured; more is a typo, not a plan';
// The PRNGs (mulberry32) take 32-bit seeds: a larger one would wrap onto another seed silently.
const SEED = { min: -2147483648, max: 4294967295, integer: true, why: 'seeds are 32-bit; a larger one would silently act as another seed' } as const;

export const TRAIN_RANGES = {
  epochs: { flag: 'epochs', min: 1, max: 100_000, integer: true, why: 'the step plan holds every epoch; use --max-steps for long runs' },
  maxSteps: { flag: 'max-steps', min: 1, max: MAX_STEPS, integer: true, why: STEPS_WHY },
  batchSize: { flag: 'batch-size', min: 1, max: 65_536, integer: true, why: 'a step graph holds batch × texts × length activations; beyond this no device has the memory (use --grad-cache for large batches)' },
  lr: { flag: 'lr', min: 0, minExclusive: true, max: 1, why: 'AdamW moves each weight by about lr per step; above 1 every step overwrites the weights (typical: 1e-6 to 1e-3)' },
  warmup: { flag: 'warmup', min: 0, max: MAX_STEPS, why: 'a fraction of the run (below 1) or a number of steps' },
  weightDecay: { flag: 'weight-decay', min: 0, max: 10, why: 'decoupled decay multiplies weights by 1 − lr·wd each step; beyond 10 it erases them at any usable rate (typical: 0 to 0.1)' },
  temperature: { flag: 'temperature', min: 0.001, max: 10, why: 'logits are cosine / temperature: below 0.001 exp() overflows float32, above 10 every pair scores alike (typical: 0.01 to 0.1)' },
  maxLength: { flag: 'max-length', min: 3, max: 32_768, integer: true, why: '[CLS] text [SEP] needs 3 tokens; no supported model has more positions than this' },
  dropout: { flag: 'dropout', min: 0, max: 0.99, why: 'a probability; 1 would drop everything' },
  seed: { flag: 'seed', ...SEED },
  negatives: { flag: 'negatives', min: 0, max: 1024, integer: true, why: 'each negative is one more text per query in every step' },
  maxGradNorm: { flag: 'max-grad-norm', min: 0, minExclusive: true, max: Infinity, infinityAllowed: true, why: 'global-norm clipping threshold; Infinity turns clipping off' },
  evalEvery: { flag: 'eval-every', min: 0, max: MAX_STEPS, integer: true, why: 'in steps; 0 evaluates only at the end' },
  patience: { flag: 'patience', min: 0, max: 1_000_000, integer: true, why: 'evaluations without improvement; 0 never stops early' },
  checkpointEvery: { flag: 'checkpoint-every', min: 0, max: MAX_STEPS, integer: true, why: 'in steps; 0 checkpoints only at the end' },
  keepCheckpoints: { flag: 'keep-checkpoints', min: 1, max: 1000, integer: true, why: 'each checkpoint holds the weights and both AdamW moments (3 × the model) on disk' },
  // onnxruntime runs one intra-op thread per thread asked: beyond the cores they only take
  // turns (1000 threads never finished a step). 4 × cores leaves room for a run recorded on a
  // bigger machine (threads are part of bit-exact resume); 16 at least, for small laptops.
  threads: { flag: 'threads', min: 1, max: (ctx: RangeContext) => Math.max(16, 4 * ctx.cores), integer: true, why: 'more threads than cores only take turns: 1000 never finished a step; the cap is 4 × this machine\'s cores (16 at least)' },
  gradCacheRows: { flag: 'grad-cache', min: 1, max: 65_536, integer: true, why: 'rows per chunk; at most the batch' },
  lora: { flag: 'lora', min: 1, max: 4096, integer: true, why: 'the adapters\' rank; it cannot exceed a layer\'s width, and no supported model is wider than 4096 (typical: 8 to 64)' },
  loraAlpha: { flag: 'lora-alpha', min: 0, minExclusive: true, max: 1_000_000, why: 'the update is scaled by alpha / r (typical: r to 2·r)' },
  loraDropout: { flag: 'lora-dropout', min: 0, max: 0.99, why: 'a probability; 1 would drop everything' },
} satisfies Record<string, SettingRange>;

export const MINE_RANGES = {
  negatives: { flag: 'negatives', min: 1, max: 1024, integer: true, why: 'negatives per anchor are texts in every training step' },
  rankMin: { flag: 'rank-min', min: 0, max: 100_000, integer: true, why: 'the search keeps rank-max candidates per query in memory' },
  rankMax: { flag: 'rank-max', min: 1, max: 100_000, integer: true, why: 'the search keeps this many candidates per query in memory' },
  seed: { flag: 'seed', ...SEED },
} satisfies Record<string, SettingRange>;

export const PRETRAIN_RANGES = {
  topK: { flag: 'top-k', min: 1, max: 100_000, integer: true, why: 'the consistency search keeps this many candidates per pair' },
  minChars: { flag: 'min-chars', min: 1, max: 1_000_000, integer: true, why: 'characters per text' },
  maxChars: { flag: 'max-chars', min: 1, max: 1_000_000, integer: true, why: 'characters per text; tokens past --max-length are cut anyway' },
  maxPairsPerDoc: { flag: 'max-pairs-per-doc', min: 1, max: 1_000_000, integer: true, why: 'pairs taken from one document' },
} satisfies Record<string, SettingRange>;

export const EVAL_RANGES = {
  k: { flag: 'k', min: 1, max: 100_000, integer: true, why: 'the search keeps k candidates per query in memory' },
} satisfies Record<string, SettingRange>;

/** The range as people write it: '[0, 10]', '(0, 1]'. */
export function rangeText(range: SettingRange, ctx: RangeContext): string {
  const max = typeof range.max === 'function' ? range.max(ctx) : range.max;
  return `${range.minExclusive ? '(' : '['}${range.min}, ${max === Infinity ? 'Infinity' : max}]`;
}

/** Why `value` is outside `range` (the sentence for BAD_INPUT), or null when it is inside. */
export function rangeProblem(value: number, range: SettingRange, ctx: RangeContext): string | null {
  const max = typeof range.max === 'function' ? range.max(ctx) : range.max;
  const shown = rangeText(range, ctx);
  const kind = range.integer ? 'a whole number' : 'a number';
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (range.infinityAllowed === true && value === Infinity)) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.minExclusive ? value > range.min : value >= range.min) &&
    value <= max;
  if (ok) return null;
  return `--${range.flag} ${String(value)} is out of range: it must be ${kind} in ${shown}; ${range.why}.`;
}
