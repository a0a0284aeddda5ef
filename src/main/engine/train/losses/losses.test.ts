// The registry against what is written from it: README.md's loss table, and 'auto' resolving
// every format a loss takes to exactly one loss.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerTrainSetting } from '../../../../shared/train-settings.js';
import { TRAIN_DEFAULTS, type TrainSettings } from '../settings.js';
import { checkLossFits } from './fit.js';
import { lossTable, losses, registerLoss, resolveLoss } from './index.js';

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

describe('a loss that brings a setting registered at run time', () => {
  it('leaves other losses free while the setting keeps its default, and refuses it set for them', () => {
    const dropSetting = registerTrainSetting({
      key: 'dummyMargin', flag: 'dummy-margin', kind: 'number', default: 0.5, resume: 'match',
      range: { min: 0, max: 1, why: 'a fraction' }, help: 'the dummy loss margin', doc: 'A setting of the test loss only.',
    });
    const infonce = resolveLoss('infonce', 'pairs');
    const dropLoss = registerLoss({ ...infonce, name: 'dummy-margin-loss', settings: ['dummyMargin' as keyof TrainSettings] }); // a row the type does not know: registered at run time
    try {
      const base = { ...TRAIN_DEFAULTS, model: '/m', data: '/d', threads: 1, template: { query: '', document: '' } } as TrainSettings;
      // At its own default (not in TRAIN_DEFAULTS, which predates the row) it is not "set".
      expect(() => checkLossFits(infonce, 'pairs', { ...base, dummyMargin: 0.5 } as TrainSettings)).not.toThrow();
      expect(() => checkLossFits(infonce, 'pairs', { ...base, dummyMargin: 0.2 } as TrainSettings)).toThrow(/--dummy-margin is a setting of the dummy-margin-loss loss; the infonce loss does not use it/);
    } finally {
      dropLoss();
      dropSetting();
    }
  });
});
