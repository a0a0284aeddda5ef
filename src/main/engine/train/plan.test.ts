// The pre-flight's step plan against a real run: on mined-style data (each row's negative is
// another row's positive) batches shrink under the no-duplicates rule, so rows / batch
// undercounts; planTraining must give the run's own steps and evaluations (issue 15 §6).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationSteps, planTraining } from './plan.js';
import { trainRun } from './run.js';
import { WORDS, importCsvLines, readMetrics, tempDir, trainSettings, writeTinyBert } from '../../../../test/support/train-fixture.js';

let root: string;
let model: string;
let mined: string;

beforeAll(async () => {
  root = await tempDir('es-plan-');
  model = await writeTinyBert(join(root, 'model'), { layers: 1 });
  // 16 triplets whose negatives are the next rows' positives, as mining picks them.
  const lines = ['anchor,positive,negative_1,negative_2'];
  const pos = (i: number) => `${WORDS[i % 16]} is a thing`;
  for (let i = 0; i < 16; i++) lines.push(`what is ${WORDS[i]},${pos(i)},${pos(i + 1)},${pos(i + 2)}`);
  mined = await importCsvLines(root, 'mined', lines);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('planTraining', () => {
  it("counts the steps and evaluations a run on mined data really takes, not rows / batch", async () => {
    const plan = await planTraining({ dataset: mined, batchSize: 8, epochs: 2, seed: 42, evalEvery: null });
    // rows / batch would say 2 per epoch, 4 in all; a row cannot share a batch with the two rows
    // whose positives are its negatives, nor with the two whose negatives are its positive.
    expect(plan.steps).toBeGreaterThan(4);
    expect(plan).toMatchObject({ examples: 16, heldOut: 0, negativesPerQuery: 2, evalEvery: Math.ceil(plan.steps / 5) });
    expect(plan.meanBatch).toBeCloseTo((16 * 2) / plan.steps, 10);

    let evaluations = 0;
    const r = await trainRun(
      trainSettings({ model, data: mined, batchSize: 8, epochs: 2, lr: 1e-3, maxLength: 16, evalEvery: plan.evalEvery }),
      join(root, 'run'),
      { evaluate: async () => ({ 'ndcg@10': evaluations++ / 100 }) },
    );
    expect(r.steps).toBe(plan.steps);
    const metrics = await readMetrics(join(root, 'run'));
    expect(metrics.filter((m) => m.eval).map((m) => m.step)).toEqual(evaluationSteps(plan.steps, plan.evalEvery));
    // One more: the base model's, for the model card's "before".
    expect(evaluations).toBe(plan.evaluations + 1);
  });

  it('max steps and an explicit interval are taken as given', async () => {
    const plan = await planTraining({ dataset: mined, batchSize: 8, epochs: 1, maxSteps: 7, evalEvery: 3 });
    expect(plan).toMatchObject({ steps: 7, evalEvery: 3, evaluations: 3 }); // steps 3, 6 and the last, 7
    expect(evaluationSteps(6, 3)).toEqual([3, 6]);
    expect(evaluationSteps(5, 0)).toEqual([5]);
  });
});
