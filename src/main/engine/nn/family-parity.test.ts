// PyTorch parity for the MPNet and ModernBERT encoders: step-1 sentence embeddings, the loss,
// every step-1 gradient and the parameters after three clipped AdamW steps, against float64
// references written from the architecture descriptions (scripts/make-family-fixtures.py),
// with tiny-bert-step's tolerances (its README says why each one). Three tiny models exercise
// every config switch: MPNet's relative-position bias (and, in a length-160 forward pass, the
// buckets past its max distance), ModernBERT bias-free with a global/local/local/global layer
// pattern, and ModernBERT with every bias, global every 2nd layer and other rotary bases; Qwen3;
// Gemma 3 as EmbeddingGemma (bidirectional, sliding and global layers, (1 + w) norms, Dense modules)
// and with use_bidirectional_attention false (causal, a sliding window looking back).

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor } from '../graph/index.js';
import { type ParamSpec, flatFeeds, flatValues, nextName } from '../runtime/contract.js';
import { probeDevice } from '../runtime/device.js';
import { createSession } from '../runtime/session.js';
import { maxAbs, maxDiff } from '../../../../test/support/measure.js';
import { int32Rows as int32, readJson as json, readTensors as tensors } from '../../../../test/support/torch-fixture.js';
import { specFromHfConfig } from './encoder.js';
import { buildEncode, buildTrainStep } from './graphs.js';
import { relativeBucket } from './mpnet.js';

function minRowCos(a: ArrayLike<number>, b: number[][]): number {
  const d = b[0].length;
  let worst = 1;
  b.forEach((row, r) => {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < d; j++) {
      const x = a[r * d + j];
      ab += x * row[j];
      aa += x * x;
      bb += row[j] * row[j];
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  });
  return worst;
}
const scalar = (t: HostTensor) => Number(t.data[0]);

type Rows = { input_ids: number[][]; attention_mask: number[][] };
const webgpu = await probeDevice('webgpu');
const profiles = mkdtempSync(join(tmpdir(), 'embedsmith-families-'));
afterAll(() => rmSync(profiles, { recursive: true, force: true }));

for (const name of ['tiny-mpnet-step', 'tiny-modernbert-step', 'tiny-modernbert-bias-step', 'tiny-qwen3-step', 'tiny-gemma3-step', 'tiny-gemma3-causal-step']) {
  describe(`${name} parity (float32 engine vs float64 torch)`, () => {
    const dir = `test/fixtures/${name}`;
    const expected = json(`${dir}/expected.json`);
    const batches = json(`${dir}/batches.json`);
    // Gemma 3's fixture carries sentence-transformers Dense modules after the pooling.
    const dense = (expected.dense as { in_features: number; out_features: number; bias: boolean }[] | undefined)?.map((d) => ({ inFeatures: d.in_features, outFeatures: d.out_features, bias: d.bias }));
    const spec = specFromHfConfig(json(`${dir}/config.json`), { pooling: expected.pooling, normalize: true, dense });
    const init = tensors(`${dir}/params.safetensors`);
    const tol = expected.tolerances;
    const rowsOf = (step: number, k: keyof Rows) => ['queries', 'positives', 'negatives'].flatMap((r) => batches.steps[step][r][k] as number[][]);

    it('embeds the step-1 rows as the reference does', async () => {
      const enc = buildEncode(spec, { batch: 12, length: 16 });
      expect(enc.data.map((d) => d.name)).toEqual(['input_ids', 'attention_mask']); // no token types
      const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
      const out = await session.run({
        ...Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, init.get(p.key)!)])),
        input_ids: int32(rowsOf(0, 'input_ids')),
        attention_mask: int32(rowsOf(0, 'attention_mask')),
      });
      await session.release();
      const got = out.sentence_embedding.data as Float32Array;
      const cos = minRowCos(got, expected.embeddings_step1);
      const err = maxDiff(got, expected.embeddings_step1.flat());
      console.log(`${name} embeddings: min cos ${cos}, max |Δ| ${err}`);
      expect(cos).toBeGreaterThanOrEqual(tol.embeddings_min_cos);
      expect(err).toBeLessThanOrEqual(tol.embeddings_abs);
    });

    const opt = expected.optimizer;
    const stepGraph = () =>
      buildTrainStep(spec, { queries: 4, negativesPerQuery: 1, length: 16 }, {
        temperature: expected.temperature,
        maxGradNorm: opt.max_grad_norm,
        betas: opt.betas,
        eps: opt.eps,
        exposeGradients: true,
      });
    // The step's flat state (flat-params.ts), packed from the fixture's per-key tensors.
    const initialState = (params: ParamSpec[]): Record<string, HostTensor> => {
      const zeros = new Map(params.map((p) => [p.key, new Float32Array(init.get(p.key)!.length)]));
      return flatFeeds(params, { p: init, m: zeros, v: zeros });
    };
    const feeds = (t: number) => {
      const ref = expected.steps[t];
      return {
        input_ids: int32(rowsOf(t, 'input_ids')),
        attention_mask: int32(rowsOf(t, 'attention_mask')),
        adam_step_size: hostTensor('float32', [], [ref.adam_step_size]),
        adam_inv_bias2: hostTensor('float32', [], [ref.adam_inv_sqrt_bias_correction2]),
        decay_factor: hostTensor('float32', [], [ref.decay_factor]),
      };
    };

    // lavapipe (CI's software GPU) or a real one: every node on the WebGPU EP, and the same steps.
    it.skipIf(!webgpu.ok)('runs the step on the WebGPU EP, every node placed there, the losses within 1e-4', async () => {
      const step = stepGraph();
      const session = await createSession(step.model, { device: 'webgpu', threads: 1, profilePrefix: join(profiles, name) });
      let state = initialState(step.params);
      for (const [t, ref] of expected.steps.entries()) {
        const out = await session.run({ ...state, ...feeds(t) });
        expect(Math.abs(scalar(out.loss) - ref.loss), `loss, step ${t + 1}`).toBeLessThan(1e-4);
        expect(Math.abs(scalar(out.grad_norm) - ref.grad_norm) / ref.grad_norm, `grad norm, step ${t + 1}`).toBeLessThan(1e-4);
        state = Object.fromEntries(Object.keys(state).map((k) => [k, out[nextName(k)]]));
      }
      session.endProfiling();
      await session.release();
      const file = readdirSync(profiles).find((f) => f.startsWith(name))!;
      const events = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as { cat: string; name: string; args?: { op_name?: string; provider?: string } }[];
      const nodes = events.filter((e) => e.cat === 'Node' && e.args?.provider);
      expect(nodes.length).toBeGreaterThan(200);
      expect(nodes.filter((e) => e.args!.provider !== 'WebGpuExecutionProvider').map((e) => `${e.args!.op_name} ${e.name}`)).toEqual([]);
    });

    it('matches the loss, every step-1 gradient and the parameters after 3 clipped AdamW steps', async () => {
      const step = stepGraph();
      expect(step.dropout).toEqual([]);
      expect(step.params.map((p) => p.key)).toEqual(expected.param_names);
      expect(step.params.filter((p) => !p.decay).map((p) => p.key)).toEqual(expected.no_decay_names);
      const session = await createSession(step.model, { device: 'cpu', threads: 1, deterministic: true });
      const state = initialState(step.params);
      const figures: Record<string, number> = {};
      let step1: Record<string, HostTensor> = {};
      for (const [t, ref] of expected.steps.entries()) {
        const out = await session.run({ ...state, ...feeds(t) });
        if (t === 0) step1 = out;
        figures[`loss_abs_step${t + 1}`] = Math.abs(scalar(out.loss) - ref.loss);
        figures[`grad_norm_rel_step${t + 1}`] = Math.abs(scalar(out.grad_norm) - ref.grad_norm) / ref.grad_norm;
        expect(figures[`loss_abs_step${t + 1}`], `loss, step ${t + 1}`).toBeLessThanOrEqual(tol.loss_abs);
        expect(figures[`grad_norm_rel_step${t + 1}`], `grad norm, step ${t + 1}`).toBeLessThanOrEqual(tol.grad_norm_rel);
        expect(scalar(out.grad_norm) > opt.max_grad_norm, `clipping, step ${t + 1}`).toBe(ref.clipped);
        for (const k of Object.keys(state)) state[k] = out[nextName(k)];
      }
      await session.release();

      const grads = tensors(`${dir}/grads-step1.safetensors`);
      let worstGrad = 0;
      for (const p of step.params) {
        const ref = grads.get(p.key)!;
        const diff = maxDiff(step1[`grad.${p.key}`].data as Float32Array, ref);
        const scale = maxAbs(ref);
        if (scale > 1e-12) worstGrad = Math.max(worstGrad, diff / scale);
        expect(diff, `gradient of ${p.key}`).toBeLessThanOrEqual(tol.grads_step1_abs + tol.grads_step1_rel_to_tensor_max * scale);
      }
      figures.grad_max_rel_to_tensor_max = worstGrad;

      const after = tensors(`${dir}/params-after3.safetensors`);
      const noise: Record<string, number[]> = expected.adam_noise_elements;
      let worstParam = 0;
      const final = flatValues(step.params, state, 'p');
      for (const p of step.params) {
        const ref = after.get(p.key)!;
        const got = final.get(p.key)!;
        const skip = new Set(noise[p.key] ?? []);
        const diff = maxDiff(got, ref, skip);
        worstParam = Math.max(worstParam, diff);
        const limit = /norm\./i.test(p.key) ? tol.params_after3_norm_abs : tol.params_after3_abs;
        expect(diff, `params after 3 steps: ${p.key}`).toBeLessThanOrEqual(limit);
        for (const i of skip) expect(Math.abs(got[i] - ref[i]), `adam-noise element ${p.key}[${i}]`).toBeLessThanOrEqual(tol.params_after3_noise_abs);
      }
      figures.params_after3_max_abs = worstParam;
      console.log(`${name} parity`, figures);
    });
  });
}

describe('MPNet relative-position buckets', () => {
  const expected = json('test/fixtures/tiny-mpnet-step/expected.json');

  it("bucket every distance as torch's float32 T5 bucketing does, both ways, past the max distance", () => {
    const { from, num_buckets: n, buckets } = expected.relative_buckets as { from: number; num_buckets: number; buckets: number[] };
    const got = buckets.map((_, i) => relativeBucket(from + i, n));
    expect(got).toEqual(buckets);
    expect(new Set(buckets).size).toBe(n - 1); // every bucket but `half` (distance 0 counts as 'before')
  });

  it('embed a length-160 batch (distances past 128, a padded row) as the reference does', async () => {
    const spec = specFromHfConfig(json('test/fixtures/tiny-mpnet-step/config.json'));
    const init = tensors('test/fixtures/tiny-mpnet-step/params.safetensors');
    const ids: number[][] = expected.long_forward.input_ids;
    const enc = buildEncode(spec, { batch: 2, length: ids[0].length });
    const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
    const out = await session.run({
      ...Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, init.get(p.key)!)])),
      input_ids: int32(ids),
      attention_mask: int32(ids.map((r) => r.map((t) => Number(t !== spec.padTokenId)))),
    });
    await session.release();
    const got = out.sentence_embedding.data as Float32Array;
    const cos = minRowCos(got, expected.long_forward.embeddings);
    console.log('tiny-mpnet long forward: min cos', cos, 'max |Δ|', maxDiff(got, expected.long_forward.embeddings.flat()));
    expect(cos).toBeGreaterThanOrEqual(expected.tolerances.embeddings_min_cos);
    expect(maxDiff(got, expected.long_forward.embeddings.flat())).toBeLessThanOrEqual(expected.tolerances.embeddings_abs);
  });
});
