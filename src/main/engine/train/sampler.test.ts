import { describe, expect, it } from 'vitest';
import { epochBatches, planSteps } from './sampler.js';
import { lrAt, warmupSteps } from './schedule.js';

const texts = (rows: string[][]) => (i: number) => rows[i];

describe('no-duplicates sampler', () => {
  const rows = [['a', 'x'], ['b', 'x'], ['c', 'y'], ['d', 'z'], ['a', 'w'], ['e', 'v']];
  it('never puts a text twice in a batch, and uses every example once per epoch', () => {
    for (const shuffle of [false, true]) {
      const batches = epochBatches(texts(rows), rows.length, 0, { batchSize: 3, shuffle, seed: 1 });
      for (const b of batches) {
        const all = b.flatMap((i) => rows[i]);
        expect(new Set(all).size).toBe(all.length);
      }
      expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });
  it('--no-shuffle keeps file order, skipping a clash to the next batch', () => {
    expect(epochBatches(texts(rows), rows.length, 0, { batchSize: 3, shuffle: false, seed: 1 })).toEqual([[0, 2, 3], [1, 4, 5]]);
  });
  it('shuffles by seed and epoch', () => {
    const many = Array.from({ length: 40 }, (_, i) => [`q${i}`, `d${i}`]);
    const o = (seed: number, epoch: number) => epochBatches(texts(many), 40, epoch, { batchSize: 8, shuffle: true, seed }).flat();
    expect(o(1, 0)).toEqual(o(1, 0));
    expect(o(1, 0)).not.toEqual(o(2, 0));
    expect(o(1, 0)).not.toEqual(o(1, 1));
  });
  it('--max-steps wins over --epochs and repeats the data', () => {
    const many = Array.from({ length: 10 }, (_, i) => [`q${i}`, `d${i}`]);
    const plan = planSteps(texts(many), 10, { batchSize: 4, shuffle: false, seed: 1, epochs: 1, maxSteps: 7 });
    expect(plan.map((p) => p.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2]);
    expect(plan[3].examples).toEqual(plan[0].examples);
    expect(plan[2].examples).toEqual([8, 9]); // the short last batch is kept
  });
});

describe('label-grouped batches (SupCon)', () => {
  it('puts same-label examples in runs of two, so batches hold ≥ 2 per label', () => {
    const labels = ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c'];
    const rows = labels.map((l, i) => [`t${i}`]);
    for (const shuffle of [false, true]) {
      const batches = epochBatches(texts(rows), 12, 0, { batchSize: 4, shuffle, seed: 3, labels });
      expect(batches.flat().sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
      for (const b of batches) {
        const counts = new Map<string, number>();
        for (const i of b) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
        expect([...counts.values()].every((c) => c >= 2)).toBe(true);
      }
    }
    // Without labels the same order splits pairs apart: the grouping is what the test sees.
    const plain = epochBatches(texts(rows), 12, 0, { batchSize: 4, shuffle: false, seed: 3 });
    expect(plain[0].map((i) => labels[i])).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('schedule (transformers get_linear_schedule_with_warmup under LambdaLR)', () => {
  it('warms up from 0 and decays linearly to 0', () => {
    const s = { lr: 1, schedule: 'linear' as const, warmupSteps: 2, totalSteps: 10 };
    // lambda(k) = k/2 for k < 2, then (10 - k) / 8.
    expect([0, 1, 2, 3, 6, 9, 10].map((k) => lrAt(s, k))).toEqual([0, 0.5, 1, 7 / 8, 4 / 8, 1 / 8, 0]);
    expect(lrAt({ ...s, schedule: 'constant' }, 9)).toBe(1);
  });
  it('--warmup is a ratio below 1 (rounded up), else steps', () => {
    expect(warmupSteps(0.1, 95)).toBe(10);
    expect(warmupSteps(3, 95)).toBe(3);
    expect(() => warmupSteps(1.5, 95)).toThrow(/--warmup/);
  });
});
