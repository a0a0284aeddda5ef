// Seeded train/eval splits (issue 5 §5). Rows are grouped — by anchor for pairs, triplets and
// scored pairs, by text for labelled data — and whole groups go to one side, so no anchor is
// in both (otherwise eval measures memorisation). Groups are stratified by label: each label
// gets round(fraction × its groups) eval groups, keeping label proportions, and never all of
// them, so every label stays trainable. Same seed, same rows → same split.
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { readDatasetMeta, readRowsWithEdits, withDatasetLock } from './store.js';
import { normalizeText } from './validate.js';
import { mulberry32 } from '../../../shared/random.js';

export interface SplitOptions {
  /** Share of groups (per label) that go to eval, in (0, 1). */
  evalFraction: number;
  seed: number;
}

export interface SplitItem {
  /** Rows with the same group go to the same side. */
  group: string;
  label?: string;
}

// The engine's one seeded generator (runtime/dropout.ts); re-exported for callers of split.
export { mulberry32 };

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** 'eval' or 'train' per item, in item order. */
export function splitRows(items: SplitItem[], opts: SplitOptions): ('train' | 'eval')[] {
  if (!(opts.evalFraction > 0 && opts.evalFraction < 1)) {
    throw new EngineError('BAD_INPUT', `the eval fraction must be between 0 and 1 (e.g. 0.1), got ${opts.evalFraction}.`, { setting: 'evalFraction' });
  }
  if (!Number.isInteger(opts.seed)) throw new EngineError('BAD_INPUT', `the split seed must be an integer, got ${opts.seed}.`, { setting: 'seed' });
  // A group's label is its first row's: a group split across labels would leak either way.
  const groupLabel = new Map<string, string>();
  for (const it of items) if (!groupLabel.has(it.group)) groupLabel.set(it.group, it.label ?? '');
  const strata = new Map<string, string[]>();
  for (const [g, l] of groupLabel) {
    const list = strata.get(l);
    if (list) list.push(g);
    else strata.set(l, [g]);
  }
  const evalGroups = new Set<string>();
  // Sorted labels and per-label streams: adding a label leaves the other labels' splits alone.
  for (const label of [...strata.keys()].sort()) {
    const groups = strata.get(label)!.sort();
    const rand = mulberry32(opts.seed ^ fnv1a(label));
    for (let i = groups.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [groups[i], groups[j]] = [groups[j], groups[i]];
    }
    const k = Math.min(Math.round(groups.length * opts.evalFraction), groups.length - 1);
    for (let i = 0; i < k; i++) evalGroups.add(groups[i]);
  }
  return items.map((it) => (evalGroups.has(it.group) ? 'eval' : 'train'));
}

export interface SplitFile {
  seed: number;
  evalFraction: number;
  counts: { train: number; eval: number };
  /** Stable row indices (store.ts IndexedRow; rows.jsonl order, edits applied) of the eval rows, the smaller side. */
  eval: number[];
}

/** Splits a stored dataset and writes DATASET_DIR/split.json. */
export function splitDataset(dir: string, opts: SplitOptions): Promise<SplitFile> {
  return withDatasetLock(dir, () => splitLocked(dir, opts));
}

async function splitLocked(dir: string, opts: SplitOptions): Promise<SplitFile> {
  const meta = await readDatasetMeta(dir);
  const items: SplitItem[] = [];
  const indices: number[] = [];
  for await (const { index, row } of readRowsWithEdits(dir)) {
    const key = meta.format === 'labeled' ? row.text! : row.anchor!;
    items.push({ group: normalizeText(key), label: row.label });
    indices.push(index);
  }
  const sides = splitRows(items, opts);
  const evalIdx = sides.flatMap((s, i) => (s === 'eval' ? [indices[i]] : []));
  const out: SplitFile = { seed: opts.seed, evalFraction: opts.evalFraction, counts: { train: items.length - evalIdx.length, eval: evalIdx.length }, eval: evalIdx };
  await writeJsonAtomic(join(dir, 'split.json'), out);
  return out;
}
