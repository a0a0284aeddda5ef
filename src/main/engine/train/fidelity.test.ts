// Training fidelity (DESIGN §6 "Training semantics"): 20 steps of trainRun against an
// independent float64 PyTorch implementation of the same recipe on a seeded tiny BERT
// (scripts/make-train-fixture.py; test/fixtures/train-20-steps/README.md): the loss and
// pre-clip gradient norm of every step, and sampled parameters of the saved model.
//
// Regenerating the fixture: EMBEDSMITH_TRAIN_FIXTURE_INPUTS=DIR runs only the first part —
// it writes the seeded model to DIR/model and each text's token ids to token-ids.json —
// then `/usr/bin/python3 scripts/make-train-fixture.py --model DIR/model` writes expected.json.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../data/index.js';
import { loadModelFolder, loadModelTokenizer } from '../model/load.js';
import { writeRandomBert } from '../model/random-model.js';
import { parseSafetensors, toFloat32 } from '../model/safetensors.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { loadExamples } from './examples.js';
import { type StepRecord, trainRun } from './run.js';
import { planSteps } from './sampler.js';
import { TRAIN_DEFAULTS, type TrainSettings } from './settings.js';

const REPO = join(import.meta.dirname, '../../../..');
const FIX = join(REPO, 'test/fixtures/train-20-steps');
const INPUTS = process.env.EMBEDSMITH_TRAIN_FIXTURE_INPUTS;

interface Recipe {
  model: { tokenizerDir: string; hidden: number; layers: number; heads: number; intermediate: number; seed: number };
  settings: Pick<TrainSettings, 'maxSteps' | 'batchSize' | 'lr' | 'schedule' | 'warmup' | 'weightDecay' | 'temperature' | 'maxLength' | 'maxGradNorm' | 'dropout' | 'shuffle'>;
}
interface Expected {
  recipe: Recipe;
  init_params_sha256: string;
  truncated_texts: string[];
  plan: { step: number; epoch: number; examples: number[] }[];
  steps: { step: number; loss: number; grad_norm: number; lr: number }[];
  tolerances: { loss_rel: number; grad_norm_rel: number; params_abs: number; l2_rel: number; noise_params_abs: number };
  params: Record<string, { shape: number[]; l2: number; indices: number[]; values: number[]; noise: number[] }>;
}

const recipe = JSON.parse(readFileSync(join(FIX, 'run.json'), 'utf8')) as Recipe;
const expected = existsSync(join(FIX, 'expected.json')) && !INPUTS ? (JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as Expected) : null;

let root: string;
let model: string;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-fidelity-'));
  model = INPUTS ? join(resolve(INPUTS), 'model') : join(root, 'model');
  await writeRandomBert(model, { ...recipe.model, tokenizerDir: join(REPO, recipe.model.tokenizerDir) });
  data = join(root, 'data');
  await importDataset(join(FIX, 'dataset.csv'), data);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const sha256Params = (file: string) => {
  const st = parseSafetensors(new Uint8Array(readFileSync(file)), file);
  const h = createHash('sha256');
  for (const key of [...st.tensors.keys()].sort()) h.update(`${key}\n`).update(st.tensors.get(key)!.bytes);
  return h.digest('hex');
};

/** Each distinct text's WordPiece ids, without special tokens and untruncated. */
async function contentIds(): Promise<Record<string, number[]>> {
  const loaded = await loadModelFolder(model, { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) });
  const tok = await loadModelTokenizer(loaded, 128);
  const { examples } = await loadExamples(data);
  const out: Record<string, number[]> = {};
  for (const e of examples) {
    for (const t of [e.query, e.positive, ...e.negatives]) {
      const ids = tok.encode(t, 128).ids;
      out[t] = ids.slice(tok.prefixIds.length, ids.length - tok.suffixIds.length);
    }
  }
  return out;
}

describe.runIf(INPUTS)('train-20-steps fixture inputs', () => {
  it('writes the seeded model and token-ids.json for scripts/make-train-fixture.py', async () => {
    const ids = await contentIds();
    const lines = Object.entries(ids).map(([t, v]) => `  ${JSON.stringify(t)}: ${JSON.stringify(v)}`);
    await writeFile(join(FIX, 'token-ids.json'), `{"texts": {\n${lines.join(',\n')}\n}}\n`);
    console.log(`model in ${model}; now run /usr/bin/python3 scripts/make-train-fixture.py --model ${model}`);
  });
});

describe.runIf(expected)('training fidelity: 20 steps vs the float64 PyTorch reference', () => {
  const ex = expected!;

  it('starts from the reference inputs: the seeded weights, token ids and batches', async () => {
    // A change here means run.json, writeRandomBert, the tokenizer or the dataset changed: regenerate.
    expect(ex.recipe, 'run.json differs from the recipe expected.json was made with').toEqual(recipe);
    expect(sha256Params(join(model, 'model.safetensors')), 'initial weights differ from the fixture (writeRandomBert changed?)').toBe(ex.init_params_sha256);
    const committed = (JSON.parse(readFileSync(join(FIX, 'token-ids.json'), 'utf8')) as { texts: Record<string, number[]> }).texts;
    expect(await contentIds()).toEqual(committed);
    expect(ex.truncated_texts.length).toBeGreaterThan(0);
    const { examples, heldOut } = await loadExamples(data);
    expect(heldOut).toBe(0);
    const texts = (i: number) => [examples[i].query, examples[i].positive, ...examples[i].negatives];
    const s = recipe.settings;
    const plan = planSteps(texts, examples.length, { batchSize: s.batchSize, shuffle: s.shuffle, seed: 42, epochs: 1, maxSteps: s.maxSteps ?? undefined });
    expect(plan).toEqual(ex.plan.map(({ epoch, examples }) => ({ epoch, examples })));
  });

  it('matches every step\'s loss and gradient norm, and the parameters after 20 steps', async () => {
    const run = join(root, 'run');
    const settings: TrainSettings = { ...TRAIN_DEFAULTS, ...recipe.settings, model, data, threads: 1, device: 'cpu', template: { query: '', document: '' } };
    const r = await trainRun(settings, run);
    expect(r.steps).toBe(ex.steps.length);
    const metrics = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepRecord);
    expect(metrics).toHaveLength(ex.steps.length);
    const tol = ex.tolerances;
    const perStep = metrics.map((m, i) => {
      const ref = ex.steps[i];
      expect(m.step).toBe(ref.step);
      expect(m.lr).toBeCloseTo(ref.lr, 12);
      return { step: m.step, loss: m.loss, ref: ref.loss, lossRel: Math.abs(m.loss - ref.loss) / Math.abs(ref.loss), gradNormRel: Math.abs(m.gradNorm - ref.grad_norm) / ref.grad_norm };
    });
    console.table(perStep);
    for (const p of perStep) {
      expect(p.lossRel, `loss, step ${p.step}`).toBeLessThanOrEqual(tol.loss_rel);
      expect(p.gradNormRel, `gradient norm, step ${p.step}`).toBeLessThanOrEqual(tol.grad_norm_rel);
    }

    const file = join(run, 'model', 'model.safetensors');
    const saved = parseSafetensors(new Uint8Array(readFileSync(file)), file);
    const worst = { params_abs: 0, noise_params_abs: 0, l2_rel: 0, where: '' };
    for (const [key, ref] of Object.entries(ex.params)) {
      const t = saved.tensors.get(key);
      expect(t?.shape, key).toEqual(ref.shape);
      const got = toFloat32(t!, key);
      const noise = new Set(ref.noise);
      ref.indices.forEach((i, k) => {
        const d = Math.abs(got[i] - ref.values[k]);
        const bound = noise.has(i) ? tol.noise_params_abs : tol.params_abs;
        if (noise.has(i)) worst.noise_params_abs = Math.max(worst.noise_params_abs, d);
        else if (d > worst.params_abs) Object.assign(worst, { params_abs: d, where: `${key}[${i}]` });
        expect(d, `${key}[${i}] after ${ex.steps.length} steps`).toBeLessThanOrEqual(bound);
      });
      // The norm over the non-noise elements (none, for the attention key biases) sees weight
      // decay on rows no step touched, a 2e-5 relative effect over 20 steps here.
      if (ref.l2 > 0) {
        const l2 = Math.sqrt(got.reduce((a, v, i) => (noise.has(i) ? a : a + v * v), 0));
        const rel = Math.abs(l2 - ref.l2) / ref.l2;
        worst.l2_rel = Math.max(worst.l2_rel, rel);
        expect(rel, `L2 norm of ${key} (noise elements apart)`).toBeLessThanOrEqual(tol.l2_rel);
      }
    }
    console.log('train-20-steps worst errors', worst);
  });
});
