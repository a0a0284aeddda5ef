// The documented range of every numeric setting of pretrain, mine and eval (train's are rows of
// train-settings.ts, beside their defaults and flags), in one place (issue 14: non-finite and
// absurd values were accepted — `--weight-decay Infinity` gave NaN weights, `--max-steps 1e8`
// filled memory, `--threads 1000` never finished a step). The engine's checks and the CLI both
// read these tables, so a range is written once; each entry says why its bounds are where they
// are. A value outside its range is BAD_INPUT (exit 2) naming the setting, the value and the range.

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
export const MAX_STEPS = 10_000_000;
export const STEPS_WHY = 'ten million steps is weeks of training at the fastest step measured; more is a typo, not a plan';
// The PRNGs (mulberry32) take 32-bit seeds: a larger one would wrap onto another seed silently.
export const SEED_RANGE = { min: -2147483648, max: 4294967295, integer: true, why: 'seeds are 32-bit; a larger one would silently act as another seed' } as const;

export const MINE_RANGES = {
  negatives: { flag: 'negatives', min: 1, max: 1024, integer: true, why: 'negatives per anchor are texts in every training step' },
  rankMin: { flag: 'rank-min', min: 0, max: 100_000, integer: true, why: 'the search keeps rank-max candidates per query in memory' },
  rankMax: { flag: 'rank-max', min: 1, max: 100_000, integer: true, why: 'the search keeps this many candidates per query in memory' },
  seed: { flag: 'seed', ...SEED_RANGE },
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
