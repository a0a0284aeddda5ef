// The trainer and encoder on the CPU EP with the toy step graph, against the independent
// float64 reference (test/support/toy-reference.ts): losses, pre-clip gradient norms, parameters and
// AdamW moments over several steps and two shape buckets; checkpoint round trips; errors.

import { afterEach, describe, expect, it } from 'vitest';
import type { BucketShape, PaddedBatch } from './buckets.js';
import { createEncoder } from './encoder.js';
import { TOY, type ToyConfig, buildToyEncode, buildToyStep, toyBatch, toyInitialParams } from './toy.js';
import { type RefBatch, refEmbed, refInit, refStep } from '../../../../test/support/toy-reference.js';
import { type Trainer, createTrainer } from './trainer.js';
import { fillKeepMask } from './dropout.js';
import { mulberry32 } from '../../../shared/random.js';

// Clip at 0.1 so the clipping branch is exercised (the toy's gradient norms are ~0.1-0.5).
const CFG: ToyConfig = { ...TOY, maxGradNorm: 0.1 };
const SEED = 5;
const WD = 0.01;
const lr = (step: number) => 0.05 * (1 - step / 10);

const trainers: Trainer[] = [];
afterEach(async () => {
  await Promise.all(trainers.splice(0).map((t) => t.dispose()));
});

async function toyTrainer(params = toyInitialParams(CFG)): Promise<Trainer> {
  const t = await createTrainer({
    device: 'cpu',
    buildStep: (shape) => buildToyStep(shape, CFG),
    initialParams: params,
    lr,
    weightDecay: WD,
    seed: SEED,
    deterministic: true,
    threads: 1,
  });
  trainers.push(t);
  return t;
}

function refBatch(b: PaddedBatch, step: number): RefBatch {
  // The trainer's bool mask for this step, as the float factors the reference multiplies by.
  const keep = fillKeepMask(new Uint8Array(b.shape.batch * CFG.dim), CFG.dropout, SEED, step, 0);
  const drop = Float32Array.from(keep, (k) => (k ? 1 / (1 - CFG.dropout) : 0));
  return { ids: b.data.input_ids, mask: b.data.attention_mask, batch: b.shape.batch, length: b.shape.length, drop };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('trainer (CPU EP, toy step graph)', () => {
  it('matches a float64 torch-style AdamW reference over 3 steps in 2 buckets', async () => {
    const init = toyInitialParams(CFG);
    const trainer = await toyTrainer(init);
    const ref = refInit(init);
    const random = mulberry32(11);
    const shapes: BucketShape[] = [{ batch: 2, length: 4 }, { batch: 3, length: 8 }, { batch: 2, length: 4 }];
    let clipped = 0;
    for (const [step, shape] of shapes.entries()) {
      const batch = toyBatch(random, shape, shape.batch - (step === 1 ? 1 : 0), CFG); // one all-padding row in step 2
      const got = await trainer.step(batch.data, shape);
      const want = refStep(ref, refBatch(batch, step), lr(step), WD, CFG);
      expect(got.step).toBe(step + 1);
      expect(got.lr).toBe(lr(step));
      expect(got.loss).toBeCloseTo(want.loss, 6);
      expect(Math.abs(got.gradNorm - want.gradNorm) / want.gradNorm).toBeLessThan(1e-5);
      if (want.gradNorm > CFG.maxGradNorm) clipped++;
    }
    expect(clipped).toBeGreaterThan(0);
    expect(trainer.buckets).toHaveLength(2);
    const params = await trainer.getParams();
    const opt = await trainer.getOptimizerState();
    expect(opt.step).toBe(3);
    for (const [key, p] of ref.p) {
      // The update moves each weight by ~lr = 0.05 per step; float32 agreement is ~1e-7.
      expect(maxAbsDiff(params.get(key)!, p), key).toBeLessThan(2e-6);
      expect(maxAbsDiff(params.get(key)!, init.get(key)!), `${key} moved`).toBeGreaterThan(0.01);
      expect(maxAbsDiff(opt.m.get(key)!, ref.m.get(key)!), `m ${key}`).toBeLessThan(1e-7);
      expect(maxAbsDiff(opt.v.get(key)!, ref.v.get(key)!), `v ${key}`).toBeLessThan(1e-8);
    }
  });

  it('resumes from params + optimizer state exactly where an uninterrupted run goes', async () => {
    const shape = { batch: 2, length: 4 };
    const random = mulberry32(3);
    const batches = [0, 1, 2].map(() => toyBatch(random, shape, 2, CFG));
    const a = await toyTrainer();
    for (const b of batches) await a.step(b.data, shape);

    const b = await toyTrainer();
    for (const x of batches.slice(0, 2)) await b.step(x.data, shape);
    const params = await b.getParams();
    const opt = await b.getOptimizerState();
    const c = await toyTrainer(new Map([...params].map(([k, v]) => [k, v.map(() => 9)]))); // overwritten below
    await c.setParams(params);
    await c.setOptimizerState(opt);
    expect(c.stepCount).toBe(2);
    const resumed = await c.step(batches[2].data, shape);
    expect(resumed.step).toBe(3);
    // Same device, threads and deterministic kernels, and dropout masks keyed by step: bit-identical.
    const pa = await a.getParams();
    const pc = await c.getParams();
    for (const [k, v] of pa) expect(pc.get(k), k).toEqual(v);
  });

  it('round-trips getParams/setParams after training starts, and copies both ways', async () => {
    const trainer = await toyTrainer();
    const shape = { batch: 2, length: 4 };
    await trainer.step(toyBatch(mulberry32(1), shape, 2, CFG).data, shape);
    const fresh = toyInitialParams(CFG, 99);
    await trainer.setParams(fresh);
    const back = await trainer.getParams();
    for (const [k, v] of fresh) expect(back.get(k), k).toEqual(v);
    back.get('proj.bias')![0] = 123; // the caller's copy, not the state
    fresh.get('proj.bias')![1] = 456;
    const again = await trainer.getParams();
    expect(again.get('proj.bias')![0]).not.toBe(123);
    expect(again.get('proj.bias')![1]).not.toBe(456);
  });

  it('swaps state by name and disposes the replaced tensors; dispose releases everything', async () => {
    const trainer = await toyTrainer();
    const shape = { batch: 2, length: 4 };
    const batch = toyBatch(mulberry32(2), shape, 2, CFG).data;
    await trainer.step(batch, shape);
    const before = trainer.state.get('p.proj.weight');
    expect(before.location).toBe('cpu');
    await trainer.step(batch, shape);
    const after = trainer.state.get('p.proj.weight');
    expect(after).not.toBe(before);
    expect(before.location).toBe('none'); // ort's mark of a disposed tensor
    expect(trainer.state.names.sort()).toEqual(
      ['emb.weight', 'proj.bias', 'proj.weight'].flatMap((k) => [`m.${k}`, `p.${k}`, `v.${k}`]).sort(),
    );
    await trainer.dispose();
    expect(after.location).toBe('none');
    expect(trainer.state.names).toEqual([]);
    expect(trainer.buckets).toEqual([]);
    await expect(trainer.step(batch, shape)).rejects.toMatchObject({ code: 'BAD_INPUT', message: /disposed/ });
  });

  it('names what is wrong: params, batch inputs, learning rate', async () => {
    const shape = { batch: 2, length: 4 };
    const batch = toyBatch(mulberry32(4), shape, 2, CFG).data;
    const params = toyInitialParams(CFG);
    params.delete('proj.bias');
    params.set('pooler.dense.weight', new Float32Array(4));
    const bad = await toyTrainer(params);
    await expect(bad.step(batch, shape)).rejects.toThrow(/missing \[proj\.bias\], unknown \[pooler\.dense\.weight\]/);

    const ok = await toyTrainer();
    await expect(ok.step({ input_ids: batch.input_ids }, shape)).rejects.toThrow(/missing \[attention_mask\]/);
    await expect(ok.step({ ...batch, input_ids: new Int32Array(3) }, shape)).rejects.toThrow(/'input_ids' has 3 values.*padToBucket/);
    await expect(ok.setParams(new Map([['emb.weight', new Float32Array(1)]]))).rejects.toThrow(
      /missing \[proj\.weight, proj\.bias\]/,
    );
    await expect(ok.setParams(new Map([...toyInitialParams(CFG)].map(([k, v]) => [k, k === 'proj.bias' ? v.slice(1) : v])))).rejects.toThrow(
      /'proj\.bias' has 2 values \(Float32Array\), the graph wants float32 \[3\] = 3/,
    );
    expect(ok.stepCount).toBe(0); // failed steps take no step
    const nan = await createTrainer({ device: 'cpu', buildStep: (s) => buildToyStep(s, CFG), initialParams: toyInitialParams(CFG), lr: () => NaN });
    trainers.push(nan);
    await expect(nan.step(batch, shape)).rejects.toMatchObject({ code: 'BAD_INPUT', message: /schedule gave NaN for step 0/ });
    expect(nan.stepCount).toBe(0);
  });
});

describe('encoder (CPU EP, toy encode graph)', () => {
  it('embeds like the float64 reference in two buckets and releases on dispose', async () => {
    const params = toyInitialParams(CFG, 8);
    const encoder = await createEncoder({ device: 'cpu', buildEncode: (s) => buildToyEncode(s, CFG), params, threads: 1 });
    const random = mulberry32(6);
    for (const shape of [{ batch: 3, length: 4 }, { batch: 2, length: 8 }]) {
      const b = toyBatch(random, shape, shape.batch, CFG);
      const got = await encoder.embed(b.data, shape);
      const want = refEmbed(params, { ids: b.data.input_ids, mask: b.data.attention_mask, ...shape, drop: null }, CFG);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    }
    await encoder.dispose();
    await expect(encoder.embed({}, { batch: 1, length: 4 })).rejects.toThrow(/disposed/);
  });
});
