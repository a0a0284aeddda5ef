import { describe, expect, it } from 'vitest';
import { mulberry32, splitRows, type SplitItem } from './split.js';

// 300 anchors with 1–3 rows each, labels a:b:c in 6:3:1 proportion by anchor.
function items(): SplitItem[] {
  const rand = mulberry32(7);
  const out: SplitItem[] = [];
  for (let g = 0; g < 300; g++) {
    const label = g % 10 < 6 ? 'a' : g % 10 < 9 ? 'b' : 'c';
    const n = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < n; k++) out.push({ group: `anchor ${g}`, label });
  }
  return out;
}

describe('splitRows', () => {
  it('keeps every anchor on one side', () => {
    const its = items();
    const sides = splitRows(its, { evalFraction: 0.2, seed: 1 });
    const sideOf = new Map<string, string>();
    its.forEach((it, i) => {
      expect(sideOf.get(it.group) ?? sides[i]).toBe(sides[i]);
      sideOf.set(it.group, sides[i]);
    });
  });

  it('keeps label proportions: round(fraction × groups) eval anchors per label', () => {
    const its = items();
    const sides = splitRows(its, { evalFraction: 0.2, seed: 1 });
    const evalGroups = (label: string) => new Set(its.filter((it, i) => it.label === label && sides[i] === 'eval').map((it) => it.group)).size;
    expect([evalGroups('a'), evalGroups('b'), evalGroups('c')]).toEqual([36, 18, 6]); // 180, 90, 30 anchors × 0.2
  });

  it('same seed, same split; another seed, another split', () => {
    const a = splitRows(items(), { evalFraction: 0.2, seed: 1 });
    expect(splitRows(items(), { evalFraction: 0.2, seed: 1 })).toEqual(a);
    expect(splitRows(items(), { evalFraction: 0.2, seed: 2 })).not.toEqual(a);
  });

  it('never puts all of a label in eval (a one-example label stays in train)', () => {
    const sides = splitRows([{ group: 'x', label: 'rare' }, ...Array.from({ length: 10 }, (_, i) => ({ group: `g${i}`, label: 'common' }))], { evalFraction: 0.9, seed: 3 });
    expect(sides[0]).toBe('train');
    expect(sides.filter((s) => s === 'train').length).toBe(2);
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => splitRows(items(), { evalFraction: 1, seed: 1 })).toThrow(/between 0 and 1/);
  });
});
