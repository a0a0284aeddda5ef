// Hard-negative mining (DESIGN §1 "mine hard negatives", §6 `embedsmith mine`), after
// sentence-transformers' mine_hard_negatives (sentence_transformers/util.py): search each
// anchor's nearest corpus texts, drop those that are, or may be, its positives, keep a rank
// window and a score window, and take the top or a seeded random sample of what is left.
//
// Ranks are 1-based in the anchor's ordering of its candidate pool with its own positives
// left out (as sentence-transformers, which searches range_max + max_positives and removes
// them): rank 1 is the most similar text that is not a positive. The pool is the whole corpus,
// except that a labelled anchor never sees texts carrying its label (they are its positives).
// Each candidate in ranks 1..rankMax is charged to the FIRST rule below that removes it:
//   own positive (not ranked) → duplicate of the anchor or a positive after normalizeText →
//   already one of its negatives → rank <= rankMin → score > maxScore → margin.
// Same-label texts are withheld before the search rather than skipped in its results: a
// class holding half the corpus would otherwise need k ≈ nc/2 to see rankMax other texts.
import { MINE_RANGES, rangeProblem } from '../../../shared/setting-ranges.js';
import { EngineError } from '../../../shared/errors.js';
import { normalizeText } from '../data/validate.js';
import { mixSeed, mulberry32 } from '../../../shared/random.js';
import type { SearchFn } from '../search/top-k.js';

export interface MineOptions {
  /** Negatives to mine per anchor, on top of any it already has (default 3). */
  negatives?: number;
  /** Skip ranks 1..rankMin: the very nearest texts are often unlabelled positives (default 10; 0 keeps rank 1). */
  rankMin?: number;
  /** Consider ranks up to this one (default 100); the search asks for rankMax + the anchor's positives in the pool. */
  rankMax?: number;
  /** Absolute margin: keep a candidate only if score <= positiveScore - margin. Excludes relativeMargin. */
  margin?: number;
  /** Relative margin: keep only if score <= positiveScore × (1 - relativeMargin), as sentence-transformers. Excludes margin. */
  relativeMargin?: number;
  /** Keep only candidates scoring at most this (near-copies of the anchor score close to 1). Default: no limit. */
  maxScore?: number;
  /** 'top': the highest-ranked eligible candidates; 'random': a seeded uniform sample of them (default 'top'). */
  sampling?: 'top' | 'random';
  /** Seed for 'random' (default 42, train's default seed); anchor i draws from mulberry32(mixSeed(seed, i)). */
  seed?: number;
}

/** MineOptions with the defaults filled in and checked. */
export type ResolvedMineOptions = Required<Pick<MineOptions, 'negatives' | 'rankMin' | 'rankMax' | 'sampling' | 'seed'>> & Pick<MineOptions, 'margin' | 'relativeMargin' | 'maxScore'>;

export const MINE_DEFAULTS = { negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 } as const;

/** Anchors per search call: bounds the TopK held at once (chunk·k·8 bytes) and paces progress and cancel checks. */
export const SEARCH_CHUNK = 4096;

export interface MineAnchor {
  /** The query text. */
  text: string;
  /** Its positive texts: never mined; those in the corpus are skipped before ranking. */
  positives: readonly string[];
  /** anchor·positive for each positive, same order; the margin is measured from the smallest. */
  positiveScores: readonly number[];
  /** Labelled data: corpus texts carrying this label are withheld from its pool. */
  label?: string;
  /** Negatives it already has (the caller keeps them): never mined again, nor texts equal to them after normalizeText. */
  existing?: readonly string[];
}

export interface MineInput {
  anchors: readonly MineAnchor[];
  /** Candidate texts, distinct. */
  corpus: readonly string[];
  /** Per corpus text, the labels it carries (labelled data); undefined or [] for none. */
  corpusLabels?: readonly (readonly string[] | undefined)[];
  /** [anchors, dim] and [corpus, dim], row-major float32, each row L2-normalised (scores are cosines). */
  anchorEmbeddings: Float32Array;
  corpusEmbeddings: Float32Array;
  dim: number;
  search: SearchFn;
  /** Anchors per search call (default SEARCH_CHUNK). */
  chunk?: number;
  /**
   * A text as the model sees it (e.g. its token ids after the template and truncation): texts
   * with equal keys are duplicates too, so a negative that truncation makes token-identical to
   * the anchor's positive is never mined (a guaranteed false negative). Default: none.
   */
  textKey?: (text: string) => string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** A mined negative: its corpus text, its score against the anchor, its 1-based rank. */
export type MinedNegative = { text: string; corpusIndex: number; score: number; rank: number };

/** Candidates removed, per rule (see the order at the top of the file). */
export interface RuleCounts {
  /** Corpus texts withheld from a labelled anchor's pool because they carry its label, summed over anchors. */
  sameLabel: number;
  /** The anchor's own positives met in its search window. */
  ownPositive: number;
  /** Equal after normalizeText to the anchor or to one of its positives. */
  duplicate: number;
  /** Equal after normalizeText to a negative the anchor already has. */
  existing: number;
  /** Rank <= rankMin (ranks past rankMax are never searched, so never counted). */
  rankRange: number;
  maxScore: number;
  margin: number;
}

export interface MineResult {
  /** Per anchor, in input order: the chosen negatives, by rank. */
  negatives: MinedNegative[][];
  removed: RuleCounts;
  /** Candidates that passed every rule (what sampling chose from), summed over anchors. */
  eligible: number;
  options: ResolvedMineOptions;
}

const bad = (setting: string, message: string) => new EngineError('BAD_INPUT', message, { setting });

export function resolveMineOptions(opts: MineOptions = {}): ResolvedMineOptions {
  const o: ResolvedMineOptions = {
    negatives: opts.negatives ?? MINE_DEFAULTS.negatives,
    rankMin: opts.rankMin ?? MINE_DEFAULTS.rankMin,
    rankMax: opts.rankMax ?? MINE_DEFAULTS.rankMax,
    sampling: opts.sampling ?? MINE_DEFAULTS.sampling,
    seed: opts.seed ?? MINE_DEFAULTS.seed,
  };
  if (!Number.isInteger(o.negatives) || o.negatives < 1) throw bad('negatives', `--negatives ${o.negatives} must be a whole number of at least 1, e.g. 3.`);
  if (!Number.isInteger(o.rankMin) || o.rankMin < 0) throw bad('rankMin', `--rank-min ${o.rankMin} must be a whole number of at least 0 (0 lets rank 1 be mined), e.g. 10.`);
  if (!Number.isInteger(o.rankMax) || o.rankMax < 1) throw bad('rankMax', `--rank-max ${o.rankMax} must be a whole number of at least 1, e.g. 100.`);
  if (o.rankMax <= o.rankMin) {
    throw bad('rankMax', `--rank-max ${o.rankMax} ${o.rankMax < o.rankMin ? 'is below' : 'equals'} --rank-min ${o.rankMin}: no rank is left to mine from. Fix: raise --rank-max above ${o.rankMin} (e.g. ${o.rankMin + 90}) or lower --rank-min.`);
  }
  const window = o.rankMax - o.rankMin;
  if (o.negatives > window) {
    throw bad('negatives', `--negatives ${o.negatives} cannot be found in ranks ${o.rankMin + 1}–${o.rankMax} (${window} candidate${window === 1 ? '' : 's'}). Fix: raise --rank-max to at least ${o.rankMin + o.negatives} or ask for fewer negatives.`);
  }
  if (opts.margin !== undefined && opts.relativeMargin !== undefined) {
    throw bad('margin', `--margin ${opts.margin} and --relative-margin ${opts.relativeMargin} are alternatives. Fix: give only one of them.`);
  }
  if (opts.margin !== undefined) {
    if (!(opts.margin >= 0 && opts.margin <= 2)) throw bad('margin', `--margin ${opts.margin} must be a number from 0 to 2 (cosine scores span 2), e.g. 0.05.`);
    o.margin = opts.margin;
  }
  if (opts.relativeMargin !== undefined) {
    if (!(opts.relativeMargin >= 0 && opts.relativeMargin < 1)) throw bad('relativeMargin', `--relative-margin ${opts.relativeMargin} must be at least 0 and below 1, e.g. 0.05.`);
    o.relativeMargin = opts.relativeMargin;
  }
  if (opts.maxScore !== undefined) {
    if (!(opts.maxScore >= -1 && opts.maxScore <= 1)) throw bad('maxScore', `--max-score ${opts.maxScore} must be a cosine score from -1 to 1, e.g. 0.95.`);
    o.maxScore = opts.maxScore;
  }
  if (o.sampling !== 'top' && o.sampling !== 'random') throw bad('sampling', `--sampling '${String(o.sampling)}' is not a sampling mode. Fix: use --sampling top or --sampling random.`);
  if (!Number.isInteger(o.seed)) throw bad('seed', `--seed ${o.seed} must be a whole number, e.g. 42.`);
  // The checks above say what a low value means; the documented ranges add the upper bounds.
  for (const key of ['negatives', 'rankMin', 'rankMax', 'seed'] as const) {
    const problem = rangeProblem(o[key], MINE_RANGES[key], { cores: 1 });
    if (problem) throw bad(key, `${problem} Fix: give --${MINE_RANGES[key].flag} a value in that range.`);
  }
  return o;
}

/** The score a candidate must not exceed under the margin option (Infinity without one). */
export function marginBound(positiveScores: readonly number[], o: ResolvedMineOptions): number {
  if (o.margin === undefined && o.relativeMargin === undefined) return Infinity;
  const p = positiveScores.reduce((m, s) => Math.min(m, s), Infinity);
  return o.margin !== undefined ? p - o.margin : p * (1 - o.relativeMargin!);
}

function checkInput(input: MineInput, o: ResolvedMineOptions): Map<string, number> {
  const { anchors, corpus, dim } = input;
  if (!Number.isInteger(dim) || dim < 1) throw new EngineError('BAD_INPUT', `embedding width ${dim} must be a positive integer`);
  const [na, nc] = [input.anchorEmbeddings.length, input.corpusEmbeddings.length];
  if (na !== anchors.length * dim || nc !== corpus.length * dim) throw new EngineError('BAD_INPUT', `embeddings do not match the texts: ${na} anchor values for ${anchors.length} anchors and ${nc} corpus values for ${corpus.length} texts at width ${dim}`);
  if (input.corpusLabels && input.corpusLabels.length !== corpus.length) throw new EngineError('BAD_INPUT', `corpusLabels has ${input.corpusLabels.length} entries for ${corpus.length} corpus texts`);
  const index = new Map<string, number>();
  corpus.forEach((t, i) => index.set(t, i));
  if (index.size !== corpus.length) throw new EngineError('BAD_INPUT', `the corpus repeats ${corpus.length - index.size} text(s); pass each text once`);
  const needScores = o.margin !== undefined || o.relativeMargin !== undefined;
  anchors.forEach((a, i) => {
    if (a.positiveScores.length !== a.positives.length) throw new EngineError('BAD_INPUT', `anchor ${i} has ${a.positives.length} positives but ${a.positiveScores.length} positive scores`);
    if (needScores && a.positives.length === 0) {
      throw bad(o.margin !== undefined ? 'margin' : 'relativeMargin', `anchor ${i} ('${a.text.slice(0, 80)}') has no positive to measure the margin from. Fix: drop --margin / --relative-margin, or give every anchor a positive.`);
    }
  });
  return index;
}

export async function mineNegatives(input: MineInput, options: MineOptions = {}): Promise<MineResult> {
  const o = resolveMineOptions(options);
  const corpusIndex = checkInput(input, o);
  const { anchors, corpus, dim } = input;
  const chunkSize = input.chunk ?? SEARCH_CHUNK;
  // Texts equal after normalizeText share an id. Per anchor, its positives are stamped in
  // ownMark (by corpus index) and its anchor/positive/negative forms in normMark (by id), so a
  // candidate costs a few typed-array reads; per-anchor Sets of normalised strings made the
  // loop ~1.7× slower (100k anchors × ~100 candidates, 2-core VM: ~10 s against ~6 s).
  // With a textKey, texts equal as the model sees them share the id as well.
  const normIds = new Map<string, number>();
  const keyIds = new Map<string, number>();
  let ids = 0;
  const norm = Int32Array.from(corpus, (t) => {
    const n = normalizeText(t);
    const k = input.textKey?.(t);
    const id = normIds.get(n) ?? (k === undefined ? undefined : keyIds.get(k)) ?? ids++;
    normIds.set(n, id);
    if (k !== undefined && !keyIds.has(k)) keyIds.set(k, id);
    return id;
  });
  const ownMark = new Int32Array(corpus.length).fill(-1); // a: a positive of anchor a
  const normMark = new Int32Array(ids).fill(-1); // 2a: a's text or a positive's; 2a+1: one of a's negatives
  const stamp = (t: string, mark: number) => {
    const byNorm = normIds.get(normalizeText(t));
    if (byNorm !== undefined) normMark[byNorm] = mark;
    const k = input.textKey?.(t);
    const byKey = k === undefined ? undefined : keyIds.get(k);
    if (byKey !== undefined) normMark[byKey] = mark;
  };
  const removed: RuleCounts = { sameLabel: 0, ownPositive: 0, duplicate: 0, existing: 0, rankRange: 0, maxScore: 0, margin: 0 };
  const negatives: MinedNegative[][] = anchors.map(() => []);
  let eligible = 0;
  let done = 0;
  // Eligible candidates are kept as result columns, not objects: most are never chosen.
  const slot = new Int32Array(corpus.length);
  const slotRank = new Int32Array(corpus.length);
  const scratch = new Int32Array(corpus.length);

  // Anchors by label: one pool (and one corpus copy) per label, the whole corpus for none.
  const groups = new Map<string | undefined, number[]>();
  anchors.forEach((a, i) => {
    if (!groups.has(a.label)) groups.set(a.label, []);
    groups.get(a.label)!.push(i);
  });
  for (const [label, members] of groups) {
    const pool = poolFor(label, input.corpusLabels); // pool position → corpus index; null: identity
    const poolSize = pool ? pool.length : corpus.length;
    removed.sameLabel += (corpus.length - poolSize) * members.length;
    const poolEmb = pool ? gatherRows(input.corpusEmbeddings, pool, dim) : input.corpusEmbeddings;
    const inPool = new Uint8Array(corpus.length).fill(pool ? 0 : 1);
    if (pool) for (const c of pool) inPool[c] = 1;
    for (let s = 0; s < members.length; s += chunkSize) {
      if (input.signal?.aborted) throw new EngineError('CANCELLED', `mining cancelled after ${done} of ${anchors.length} anchors`, { done, total: anchors.length });
      const chunk = members.slice(s, s + chunkSize);
      // Enough to see rankMax non-positives behind however many positives rank first.
      let most = 0;
      for (const a of chunk) most = Math.max(most, new Set(anchors[a].positives.map((p) => corpusIndex.get(p)).filter((c) => c !== undefined && inPool[c] === 1)).size);
      const k = Math.min(poolSize, o.rankMax + most);
      const top = k > 0 ? await input.search(gatherRows(input.anchorEmbeddings, chunk, dim), poolEmb, dim, k) : { k: 0, indices: new Int32Array(), scores: new Float32Array() };
      for (let r = 0; r < chunk.length; r++) {
        const a = chunk[r];
        const anchor = anchors[a];
        for (const p of anchor.positives) {
          const c = corpusIndex.get(p);
          if (c !== undefined) ownMark[c] = a;
        }
        for (const t of anchor.existing ?? []) stamp(t, 2 * a + 1);
        for (const t of [anchor.text, ...anchor.positives]) stamp(t, 2 * a); // after: a duplicate is charged first
        const bound = marginBound(anchor.positiveScores, o);
        const base = r * top.k;
        let n = 0; // eligible so far: their result columns in slot, ranks in slotRank
        let rank = 0;
        for (let j = 0; j < top.k; j++) {
          const c = pool ? pool[top.indices[base + j]] : top.indices[base + j];
          if (ownMark[c] === a) {
            removed.ownPositive++;
            continue;
          }
          if (++rank > o.rankMax) break;
          const score = top.scores[base + j];
          const m = normMark[norm[c]];
          if (m === 2 * a) removed.duplicate++;
          else if (m === 2 * a + 1) removed.existing++;
          else if (rank <= o.rankMin) removed.rankRange++;
          else if (o.maxScore !== undefined && score > o.maxScore) removed.maxScore++;
          else if (score > bound) removed.margin++;
          else {
            slot[n] = j;
            slotRank[n++] = rank;
          }
        }
        eligible += n;
        negatives[a] = choose(n, o, a, scratch).map((i) => {
          const c = pool ? pool[top.indices[base + slot[i]]] : top.indices[base + slot[i]];
          return { text: corpus[c], corpusIndex: c, score: top.scores[base + slot[i]], rank: slotRank[i] };
        });
      }
      done += chunk.length;
      input.onProgress?.(done, anchors.length);
    }
  }
  return { negatives, removed, eligible, options: o };
}

/** Corpus indices a labelled anchor may see, or null when that is the whole corpus. */
function poolFor(label: string | undefined, labels: MineInput['corpusLabels']): Int32Array | null {
  if (label === undefined || !labels) return null;
  const keep: number[] = [];
  labels.forEach((ls, c) => {
    if (!ls?.includes(label)) keep.push(c);
  });
  return keep.length === labels.length ? null : Int32Array.from(keep);
}

/** Rows `idx` of a [n, dim] matrix as one [idx.length, dim] matrix; a view when they are consecutive. */
export function gatherRows(m: Float32Array, idx: ArrayLike<number>, dim: number): Float32Array {
  const n = idx.length;
  let run = true;
  for (let i = 1; i < n && run; i++) run = idx[i] === idx[0] + i;
  if (n > 0 && run) return m.subarray(idx[0] * dim, (idx[0] + n) * dim);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) out.set(m.subarray(idx[i] * dim, (idx[i] + 1) * dim), i * dim);
  return out;
}

/** Which `negatives` of n eligible candidates (0..n-1, by rank) to keep: the first, or a seeded sample in rank order. */
function choose(n: number, o: ResolvedMineOptions, anchor: number, scratch: Int32Array): number[] {
  const take = Math.min(n, o.negatives);
  if (n <= o.negatives || o.sampling === 'top') return Array.from({ length: take }, (_, i) => i);
  // Per-anchor stream: an anchor's sample does not depend on how many draws earlier anchors took.
  const rand = mulberry32(mixSeed(o.seed, anchor));
  for (let i = 0; i < n; i++) scratch[i] = i;
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rand() * (n - i)); // partial Fisher–Yates
    [scratch[i], scratch[j]] = [scratch[j], scratch[i]];
  }
  return Array.from(scratch.subarray(0, take)).sort((x, y) => x - y);
}
