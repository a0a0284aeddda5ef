// The registry against what is written from it: README.md's loss table, and 'auto' resolving
// every format a loss takes to exactly one loss.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lossTable, losses, resolveLoss } from './index.js';

describe('the loss registry', () => {
  it("README.md's loss table is the registry's (regenerate it from lossTable() when a loss changes)", () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../../README.md'), 'utf8');
    const block = /<!-- losses:start -->\n([\s\S]*?)\n<!-- losses:end -->/.exec(readme);
    expect(block, 'README.md lacks the <!-- losses:start --> … <!-- losses:end --> block').not.toBeNull();
    expect(block![1]).toBe(lossTable());
  });

  it("'auto' picks one loss per format, one that trains on it; a named loss is itself, an unknown name is refused with the list", () => {
    expect(['pairs', 'triplets', 'labeled', 'scored'].map((f) => resolveLoss('auto', f).name)).toEqual(['infonce', 'infonce', 'supcon', 'cosent']);
    for (const l of losses()) for (const f of l.auto) expect(l.formats).toContain(f);
    expect(resolveLoss('supcon', 'pairs').name).toBe('supcon');
    expect(() => resolveLoss('triplet-margin', 'pairs')).toThrow(/'triplet-margin' is not a loss; use auto, infonce, supcon, cosent/);
    expect(() => resolveLoss('auto', 'texts')).toThrow(/no loss trains on 'texts' data/);
  });
});
