// The Training page's rules: presets against DESIGN §6's `embedsmith train` defaults, the
// request, resume from config.json, the memory estimate and ETA against figures worked out by
// hand. (The renderer's type-check cannot reach engine code, so the defaults are restated.)
import { describe, expect, it } from 'vitest';
import type { RunView } from '../../../../shared/api.js';
import { lossOptions } from '../../../../shared/losses.js';
import {
  PRESETS,
  estimateMemory,
  etaSeconds,
  evalSeries,
  formFromPreset,
  labelImbalance,
  matchingPreset,
  plannedSteps,
  presetLora,
  resumeRequest,
  runName,
  series,
  trainFormProblem,
  trainRequest,
} from './training.js';

describe('presets', () => {
  it('balanced is the command line’s default recipe', () => {
    // --epochs 1 --batch-size 32 --lr 2e-5 --warmup 0.1 --max-length 128
    expect(PRESETS.balanced.settings).toEqual({ epochs: 1, batchSize: 32, lr: 2e-5, maxLength: 128, warmup: 0.1 });
  });

  it('quick is cheaper per step and thorough sees more, for longer', () => {
    expect(PRESETS.quick.settings).toEqual({ epochs: 1, batchSize: 16, lr: 5e-5, maxLength: 64, warmup: 0.1 });
    expect(PRESETS.thorough.settings).toEqual({ epochs: 3, batchSize: 64, lr: 2e-5, maxLength: 256, warmup: 0.1 });
  });

  it('names the preset the fields still match, none once one changed', () => {
    expect(matchingPreset(formFromPreset('quick'))).toBe('quick');
    expect(matchingPreset({ ...formFromPreset('quick'), batchSize: 17 })).toBeNull();
  });

  it('choose LoRA rank 16 for a model above 100 M parameters and full fine-tuning below', () => {
    const small = { params: 22_700_000 };
    const large = { params: 307_600_000 }; // EmbeddingGemma-300m
    expect(formFromPreset('balanced', small).lora).toBeNull();
    expect(formFromPreset('balanced', large).lora).toBe(16);
    expect(formFromPreset('quick', { params: 100e6 }).lora).toBeNull(); // "above" 100 M
    expect(presetLora(null)).toBeNull();
    // A preset matches only with the LoRA choice it makes for this model.
    expect(matchingPreset(formFromPreset('thorough', large), large)).toBe('thorough');
    expect(matchingPreset({ ...formFromPreset('thorough', large), lora: null }, large)).toBeNull();
    expect(matchingPreset(formFromPreset('thorough', large), small)).toBeNull();
    // The request carries it: the engine trains adapters.
    const r = trainRequest(formFromPreset('balanced', large), { model: '/m', dataset: '/d', out: '/r', canEvaluate: true, steps: 10 });
    expect(r.settings?.lora).toBe(16);
  });
});

describe('the request', () => {
  const io = { model: '/m', dataset: '/p/datasets/d', out: '/p/runs/r', canEvaluate: true, steps: 12 };

  it('evaluates on the dataset itself, about five times a run unless told', () => {
    const r = trainRequest(formFromPreset('balanced'), io);
    expect(r).toEqual({
      model: '/m',
      dataset: '/p/datasets/d',
      out: '/p/runs/r',
      settings: { epochs: 1, maxSteps: null, batchSize: 32, lr: 2e-5, maxLength: 128, warmup: 0.1, seed: 42, device: 'auto', precision: 'fp32', checkpointEvery: 0, eval: '/p/datasets/d', evalEvery: 3 },
    });
    expect(trainRequest({ ...formFromPreset('balanced'), evalEvery: 0 }, io).settings?.evalEvery).toBe(0);
    const noSplit = trainRequest(formFromPreset('balanced'), { ...io, canEvaluate: false }).settings!;
    expect([noSplit.eval, noSplit.evalEvery]).toEqual([null, 0]);
  });

  it('sends the Templates page’s template, or none so the model’s own prompts apply', () => {
    const t = { query: 'query: ', document: 'passage: ', text: 'query: ' };
    expect(trainRequest(formFromPreset('quick'), { ...io, template: t }).settings?.template).toEqual({ query: 'query: ', document: 'passage: ' });
    expect(trainRequest(formFromPreset('quick'), { ...io, template: { query: '', document: '' } }).settings).not.toHaveProperty('template');
  });

  it('sends the picked loss; Automatic is the engine default and is not sent', () => {
    expect(trainRequest({ ...formFromPreset('quick'), loss: 'supcon' }, io).settings?.loss).toBe('supcon');
    expect(trainRequest(formFromPreset('quick'), io).settings).not.toHaveProperty('loss');
  });

  it('the loss picker lists the engine’s losses, names what Automatic picks, and marks those the dataset cannot train', () => {
    const losses = [
      { name: 'infonce', title: 'InfoNCE', formats: ['pairs', 'scored'], auto: ['pairs'], doc: 'in-batch negatives', cite: 'A 2018' },
      { name: 'cosent', title: 'CoSENT', formats: ['scored'], auto: ['scored'], doc: 'gold order', cite: 'B 2022' },
    ];
    const scored = lossOptions(losses, 'scored');
    expect(scored.map((o) => [o.value, o.label, o.fits])).toEqual([['auto', 'Automatic (CoSENT)', true], ['infonce', 'InfoNCE', true], ['cosent', 'CoSENT', true]]);
    expect(lossOptions(losses, 'pairs').map((o) => o.fits)).toEqual([true, true, false]);
    expect(lossOptions(losses, 'labeled')[0]).toMatchObject({ label: 'Automatic', fits: false, why: 'No loss trains on labeled data.' });
    expect(lossOptions(losses, null).every((o) => o.fits)).toBe(true);
  });

  it('checks the fields with the fix in the message', () => {
    expect(trainFormProblem(formFromPreset('quick'))).toBeNull();
    expect(trainFormProblem({ ...formFromPreset('quick'), batchSize: 0 })).toContain('Batch size');
    expect(trainFormProblem({ ...formFromPreset('quick'), maxSteps: 2.5 })).toContain('Max steps');
    expect(trainFormProblem({ ...formFromPreset('quick'), lr: 0 })).toContain('2e-5');
    expect(trainFormProblem({ ...formFromPreset('quick'), maxLength: 2 })).toContain('at least 3');
  });

  it('plans ceil(rows / batch) steps per epoch, or max steps', () => {
    expect(plannedSteps(100, { batchSize: 32, epochs: 3, maxSteps: null })).toBe(12); // 4 × 3
    expect(plannedSteps(100, { batchSize: 32, epochs: 3, maxSteps: 7 })).toBe(7);
  });

  it('resumes with the settings of config.json, which the engine compares', () => {
    // config.json as train/settings.ts writes it: every setting, plus what the engine decides.
    const config = {
      eval: '/d', epochs: 1, maxSteps: 6, batchSize: 32, lr: 2e-5, warmup: 0.1, schedule: 'linear', weightDecay: 0.01, temperature: 0.05,
      maxLength: 128, dropout: null, seed: 42, shuffle: true, negatives: null, maxGradNorm: 1, evalEvery: 2, metric: 'ndcg@10', patience: 0,
      checkpointEvery: 0, keepCheckpoints: 2, device: 'auto', model: '/m', data: '/d', template: { query: 'q: ', document: '' }, threads: 16,
    };
    const run: RunView = { dir: '/p/runs/r', config, metrics: [], checkpoints: [2], modelDir: null };
    const r = resumeRequest(run);
    expect(r).toMatchObject({ model: '/m', dataset: '/d', out: '/p/runs/r', resume: true });
    expect(r.settings).toMatchObject({ maxSteps: 6, batchSize: 32, lr: 2e-5, template: { query: 'q: ', document: '' }, eval: '/d', evalEvery: 2, device: 'auto' });
    // Not request settings: the engine sets these itself.
    for (const k of ['threads', 'model', 'data']) expect(r.settings).not.toHaveProperty(k);
  });

  it('resumes a run trained with a loss and options the form does not set (--loss supcon --symmetric …)', () => {
    // A CLI run's config.json: each of these is compared on resume, so leaving one out made the
    // engine refuse ("loss was "supcon", now "auto"").
    const config = {
      eval: null, epochs: 1, maxSteps: 6, batchSize: 32, lr: 2e-5, warmup: 0.1, schedule: 'constant', weightDecay: 0.01, temperature: 0.07,
      maxLength: 64, dropout: 0.1, seed: 7, shuffle: false, negatives: 1, maxGradNorm: 5, evalEvery: 0, metric: 'ndcg@10', patience: 0,
      checkpointEvery: 3, keepCheckpoints: 4, device: 'cpu', model: '/m', data: '/d', template: { query: '', document: '' }, threads: 2,
      loss: 'supcon', symmetric: true, learnTemperature: true, gradCacheRows: 8,
    };
    const r = resumeRequest({ dir: '/p/runs/r', config, metrics: [], checkpoints: [3], modelDir: null });
    expect(r.settings).toMatchObject({
      loss: 'supcon', symmetric: true, learnTemperature: true, gradCacheRows: 8, maxGradNorm: 5, keepCheckpoints: 4,
      schedule: 'constant', temperature: 0.07, dropout: 0.1, shuffle: false, negatives: 1, checkpointEvery: 3, device: 'cpu',
    });
  });

  it('suggests a run name past the ones that exist', () => {
    expect(runName('faq-mined', 'quick', [])).toBe('faq-mined-quick');
    expect(runName('faq-mined', 'quick', ['faq-mined-quick', 'faq-mined-quick-2'])).toBe('faq-mined-quick-3');
  });
});

describe('pre-flight', () => {
  it('estimates memory from the fitted per-unit bytes', () => {
    // all-MiniLM-L6-v2: 22,713,216 params, width 384, 12 heads, 6 layers; batch 32, 3 negatives, 128 tokens.
    const m = estimateMemory({ params: 22_713_216, hidden: 384, layers: 6, heads: 12 }, { batchSize: 32, negatives: 3, maxLength: 128 });
    expect(m.weights).toBe(22_713_216 * 58 + 400e6);
    expect(m.activations).toBe(160 * 128 * 6 * (384 * 31 + 12 * 128 * 29)); // 160 texts
    expect(m.total).toBe(m.weights + m.activations);
  });

  it('lands within 30 % of the peak RSS of eight measured steps, full and LoRA, small and base-size (bench/README.md, 2026-12-07)', () => {
    const GiB = 2 ** 30;
    const minilm = { params: 22_565_376, hidden: 384, layers: 6, heads: 12 };
    const modern = { params: 149_014_272, hidden: 768, layers: 22, heads: 12 };
    const mpnet = { params: 108_891_648, hidden: 768, layers: 12, heads: 12 };
    const gemma = { params: 307_581_696, hidden: 768, layers: 24, heads: 3 };
    const cases: [typeof minilm, number, number, number | undefined, number][] = [
      [minilm, 16, 64, undefined, 1.68],
      [minilm, 32, 64, undefined, 1.95],
      [minilm, 64, 64, undefined, 3.91],
      [minilm, 32, 128, undefined, 4.05],
      [modern, 8, 64, undefined, 9.68],
      [mpnet, 8, 64, undefined, 6.41],
      [modern, 8, 64, 3_379_200, 3.1],
      [gemma, 8, 64, 4_180_000, 6.83],
    ];
    for (const [model, batchSize, maxLength, trainedParams, measured] of cases) {
      const { total } = estimateMemory(model, { batchSize, negatives: 0, maxLength, trainedParams });
      expect(Math.abs(total / GiB - measured) / measured, `${model.params} ${batchSize}×${maxLength} ${trainedParams ?? 'full'}`).toBeLessThan(0.3);
    }
  });

  it("counts LoRA's frozen weights without moments or gradients", () => {
    const step = { batchSize: 8, negatives: 0, maxLength: 64 };
    const modern = { params: 149_014_272, hidden: 768, layers: 22, heads: 12 };
    expect(estimateMemory(modern, { ...step, trainedParams: modern.params })).toEqual(estimateMemory(modern, step));
    const lora = estimateMemory(modern, { ...step, trainedParams: 3_379_200 });
    expect(lora.weights).toBe(3_379_200 * 58 + (modern.params - 3_379_200) * 18 + 400e6);
    expect(lora.total).toBeLessThan(estimateMemory(modern, step).total / 2);
  });

  it('measures label balance as largest over smallest', () => {
    expect(labelImbalance({ billing: 50, login: 5, empty: 0 })).toEqual({ ratio: 10, largest: 'billing', smallest: 'login' });
    expect(labelImbalance({ one: 3 })).toBeNull();
    expect(labelImbalance(null)).toBeNull();
  });
});

describe('live numbers', () => {
  it('ETA from the rate since first seen: 5 steps in 10 s, 20 to go → 40 s', () => {
    expect(etaSeconds({ t: 0, done: 2 }, { t: 10_000, done: 7 }, 27)).toBe(40);
    expect(etaSeconds({ t: 0, done: 2 }, { t: 10_000, done: 2 }, 27)).toBeNull(); // no step yet
  });

  it('reads series from metrics.jsonl, with gaps for missing values', () => {
    const metrics = [
      { step: 1, loss: 2.5, lr: 1e-5, gradNorm: 0.9, pairsPerSec: 40 },
      { step: 2, loss: null, lr: 2e-5, gradNorm: null, pairsPerSec: 41, skipped: true },
      { step: 3, loss: 2.1, lr: 2e-5, gradNorm: 0.7, pairsPerSec: 42, eval: { 'ndcg@10': 0.41, 'mrr@10': 0.3 } },
    ];
    expect(series(metrics, 'loss')).toEqual([{ x: 1, y: 2.5 }, { x: 2, y: NaN }, { x: 3, y: 2.1 }]);
    expect(evalSeries(metrics, 'ndcg@10')).toEqual([{ x: 3, y: 0.41 }]);
  });
});
