import { describe, expect, it } from 'vitest';
import { EVAL_RANGES, MINE_RANGES, PRETRAIN_RANGES, rangeProblem, type SettingRange } from './setting-ranges.js';
import { trainRanges } from './train-settings.js';

// train's ranges are rows of the settings table (train-settings.ts).
const TRAIN_RANGES = trainRanges();

const ctx = { cores: 2 };

describe('setting ranges', () => {
  it('refuses non-finite values everywhere, naming the flag, the value and the range', () => {
    expect(rangeProblem(Infinity, TRAIN_RANGES.weightDecay, ctx)).toBe(
      '--weight-decay Infinity is out of range: it must be a number in [0, 10]; decoupled decay multiplies weights by 1 − lr·wd each step; beyond 10 it erases them at any usable rate (typical: 0 to 0.1).',
    );
    expect(rangeProblem(Infinity, TRAIN_RANGES.temperature, ctx)).toMatch(/^--temperature Infinity is out of range: it must be a number in \[0\.001, 10\]/);
    expect(rangeProblem(NaN, TRAIN_RANGES.lr, ctx)).toMatch(/^--lr NaN is out of range: it must be a number in \(0, 1\]/);
    for (const table of [TRAIN_RANGES, MINE_RANGES, PRETRAIN_RANGES, EVAL_RANGES] as Record<string, SettingRange>[]) {
      for (const r of Object.values(table)) {
        expect([r.flag, rangeProblem(NaN, r, ctx) !== null]).toEqual([r.flag, true]);
        expect([r.flag, rangeProblem(-Infinity, r, ctx) !== null]).toEqual([r.flag, true]);
        expect([r.flag, rangeProblem(Infinity, r, ctx) !== null]).toEqual([r.flag, r.infinityAllowed !== true]);
      }
    }
  });

  it('checks both ends, exclusive lower bounds and whole numbers', () => {
    expect(rangeProblem(0, TRAIN_RANGES.lr, ctx)).not.toBeNull();
    expect(rangeProblem(1, TRAIN_RANGES.lr, ctx)).toBeNull();
    expect(rangeProblem(1.0001, TRAIN_RANGES.lr, ctx)).not.toBeNull();
    expect(rangeProblem(2.5, TRAIN_RANGES.batchSize, ctx)).toMatch(/must be a whole number in \[1, 65536\]/);
    expect(rangeProblem(1e8, TRAIN_RANGES.maxSteps, ctx)).toMatch(/^--max-steps 100000000 is out of range: it must be a whole number in \[1, 10000000\]; ten million steps/);
    expect(rangeProblem(10_000_000, TRAIN_RANGES.maxSteps, ctx)).toBeNull();
    expect(rangeProblem(Infinity, TRAIN_RANGES.maxGradNorm, ctx)).toBeNull(); // clipping off
  });

  it('caps threads at 4 × the cores (16 at least), saying why', () => {
    expect(rangeProblem(1000, TRAIN_RANGES.threads, ctx)).toMatch(/^--threads 1000 is out of range: it must be a whole number in \[1, 16\]; more threads than cores only take turns/);
    expect(rangeProblem(16, TRAIN_RANGES.threads, ctx)).toBeNull();
    expect(rangeProblem(64, TRAIN_RANGES.threads, { cores: 16 })).toBeNull();
    expect(rangeProblem(65, TRAIN_RANGES.threads, { cores: 16 })).not.toBeNull();
  });
});
