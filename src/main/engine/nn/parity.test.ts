// PyTorch parity: the tiny-BERT training fixture (loss, every step-1 gradient, parameters
// after three clipped AdamW steps) and the tiny-RoBERTa forward fixture. The references were
// computed in float64 by torch (test/fixtures/*/README.md); the tolerances are the READMEs'.

import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor } from '../graph/index.js';
import { flatFeeds, flatValues, nextName } from '../runtime/contract.js';
import { createSession } from '../runtime/session.js';
import { maxAbs, maxDiff } from '../../../../test/support/measure.js';
import { int32Rows as int32, readJson as json, readTensors as tensors } from '../../../../test/support/torch-fixture.js';
import { specFromHfConfig } from './encoder.js';
import { buildEncode, buildTrainStep } from './graphs.js';

const BERT = 'test/fixtures/tiny-bert-step';
const ROBERTA = 'test/fixtures/tiny-roberta-forward';

const scalar = (t: HostTensor): number => Number(t.data[0]);

type Rows = { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] };

describe('tiny-bert-step parity (float32 engine vs float64 torch)', () => {
  const expected = json(`${BERT}/expected.json`);
  const batches = json(`${BERT}/batches.json`);
  const spec = specFromHfConfig(json(`${BERT}/config.json`), { pooling: 'mean', normalize: true });
  const init = tensors(`${BERT}/params.safetensors`);
  const tol = expected.tolerances;

  it('matches loss and every gradient of step 1, and the parameters after 3 AdamW steps', async () => {
    const step = buildTrainStep(spec, { queries: 4, negativesPerQuery: 1, length: 16 }, {
      temperature: expected.loss.temperature,
      maxGradNorm: expected.optimizer.max_grad_norm,
      betas: expected.optimizer.betas,
      eps: expected.optimizer.eps,
      exposeGradients: true,
    });
    expect(step.dropout).toEqual([]);
    expect(step.params.map((p) => p.key)).toEqual(expected.param_names);
    expect(step.params.filter((p) => !p.decay).map((p) => p.key)).toEqual(expected.no_decay_names);
    expect(step.data.map((d) => d.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);

    const session = await createSession(step.model, { device: 'cpu', threads: 1, deterministic: true });
    const zeros = new Map(step.params.map((p) => [p.key, new Float32Array(init.get(p.key)!.length)]));
    const state: Record<string, HostTensor> = flatFeeds(step.params, { p: init, m: zeros, v: zeros });
    const figures: Record<string, number> = {};
    let step1: Record<string, HostTensor> = {};
    for (const [t, ref] of expected.steps.entries()) {
      const b = batches.steps[t];
      const rows = (k: keyof Rows) => [...b.queries[k], ...b.positives[k], ...b.negatives[k]];
      const out = await session.run({
        ...state,
        input_ids: int32(rows('input_ids')),
        attention_mask: int32(rows('attention_mask')),
        token_type_ids: int32(rows('token_type_ids')),
        adam_step_size: hostTensor('float32', [], [ref.adam_step_size]),
        adam_inv_bias2: hostTensor('float32', [], [ref.adam_inv_sqrt_bias_correction2]),
        decay_factor: hostTensor('float32', [], [ref.decay_factor]),
      });
      if (t === 0) step1 = out;
      const lossErr = Math.abs(scalar(out.loss) - ref.loss);
      const normErr = Math.abs(scalar(out.grad_norm) - ref.grad_norm) / ref.grad_norm;
      figures[`loss_abs_step${t + 1}`] = lossErr;
      figures[`grad_norm_rel_step${t + 1}`] = normErr;
      expect(lossErr, `loss, step ${t + 1}`).toBeLessThanOrEqual(tol.loss_abs);
      expect(normErr, `grad norm, step ${t + 1}`).toBeLessThanOrEqual(tol.grad_norm_rel);
      expect(scalar(out.grad_norm) > expected.optimizer.max_grad_norm).toBe(ref.clipped);
      for (const name of Object.keys(state)) state[name] = out[nextName(name)];
    }
    await session.release();

    // Step 1 gradients, per tensor: max |Δ| <= 1e-6 + 1e-5 · max |g_ref|.
    const grads = tensors(`${BERT}/grads-step1.safetensors`);
    let worstRel = 0;
    for (const p of step.params) {
      const ref = grads.get(p.key) as Float32Array;
      const got = step1[`grad.${p.key}`].data as Float32Array;
      const diff = maxDiff(got, ref);
      const scale = maxAbs(ref);
      if (scale > 1e-12) worstRel = Math.max(worstRel, diff / scale);
      expect(diff, `gradient of ${p.key}`).toBeLessThanOrEqual(tol.grads_step1_abs + tol.grads_step1_rel_to_tensor_max * scale);
    }
    figures.grad_max_rel_to_tensor_max = worstRel;
    expect(worstRel).toBeLessThanOrEqual(1e-4);

    // Parameters after step 3, by the README's element groups.
    const after = tensors(`${BERT}/params-after3.safetensors`);
    const noise: Record<string, number[]> = expected.adam_noise_elements.indices;
    const zeroRows: Record<string, number[]> = expected.zero_grad_rows.rows;
    const decay3 = expected.steps.reduce((f: number, s: { decay_factor: number }) => f * s.decay_factor, 1);
    let worstParam = 0;
    let worstNoise = 0;
    let worstZeroRel = 0;
    const final = flatValues(step.params, state, 'p');
    for (const p of step.params) {
      const ref = after.get(p.key) as Float32Array;
      const got = final.get(p.key)!;
      const skip = new Set(noise[p.key] ?? []);
      const diff = maxDiff(got, ref, skip);
      worstParam = Math.max(worstParam, diff);
      const limit = p.key.includes('LayerNorm.') ? tol.params_after3_layernorm_abs : tol.params_after3_abs;
      expect(diff, `params after 3 steps: ${p.key}`).toBeLessThanOrEqual(limit);
      for (const i of skip) {
        worstNoise = Math.max(worstNoise, Math.abs(got[i] - ref[i]));
        expect(Math.abs(got[i] - ref[i]), `adam-noise element ${p.key}[${i}]`).toBeLessThanOrEqual(tol.params_after3_noise_abs);
      }
      const width = p.shape[1] ?? 1;
      const theta0 = init.get(p.key) as Float32Array;
      for (const r of zeroRows[p.key] ?? []) {
        for (let c = r * width; c < (r + 1) * width; c++) {
          const want = theta0[c] * decay3;
          const rel = Math.abs(got[c] - want) / Math.abs(want);
          worstZeroRel = Math.max(worstZeroRel, rel);
          expect(rel, `zero-gradient row ${p.key}[${r}]`).toBeLessThanOrEqual(tol.zero_grad_rows_rel);
        }
        expect(maxAbs((step1[`grad.${p.key}`].data as Float32Array).subarray(r * width, (r + 1) * width))).toBe(0);
      }
    }
    figures.params_after3_max_abs = worstParam;
    figures.params_after3_noise_max_abs = worstNoise;
    figures.zero_grad_rows_max_rel = worstZeroRel;
    console.log('tiny-bert-step parity', figures);
  });

  it('the encoder graph reproduces the step-1 sentence embeddings', async () => {
    const enc = buildEncode(spec, { batch: 12, length: 16 });
    const b = batches.steps[0];
    const rows = (k: keyof Rows) => [...b.queries[k], ...b.positives[k], ...b.negatives[k]];
    const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
    const out = await session.run({
      ...Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, init.get(p.key)!)])),
      input_ids: int32(rows('input_ids')),
      attention_mask: int32(rows('attention_mask')),
      token_type_ids: int32(rows('token_type_ids')),
    });
    await session.release();
    const fwd = tensors(`${BERT}/forward-step1.safetensors`);
    const ref = [...fwd.get('query_embeddings')!, ...fwd.get('positive_embeddings')!, ...fwd.get('negative_embeddings')!];
    const err = maxDiff(out.sentence_embedding.data as Float32Array, ref);
    console.log('tiny-bert-step forward embeddings max |Δ|', err);
    expect(out.sentence_embedding.shape).toEqual([12, 64]);
    expect(out.token_embeddings.shape).toEqual([12, 16, 64]);
    expect(err).toBeLessThanOrEqual(tol.embeddings_abs);
  });
});

describe('tiny-roberta-forward parity', () => {
  it('matches sentence embeddings and the <s> hidden state, with positions computed in the graph', async () => {
    const expected = json(`${ROBERTA}/expected.json`);
    const batch = json(`${ROBERTA}/batch.json`);
    const spec = specFromHfConfig(json(`${ROBERTA}/config.json`));
    expect(spec).toMatchObject({ arch: 'roberta', padTokenId: 1, layerNormEps: 1e-5, typeVocabSize: 1 });
    const params = tensors(`${ROBERTA}/params.safetensors`);
    const enc = buildEncode(spec, { batch: 4, length: 16 });
    expect(enc.data.map((d) => d.name)).toEqual(['input_ids', 'attention_mask']); // type vocab 1: ids are all 0
    const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
    const out = await session.run({
      ...Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, params.get(p.key)!)])),
      input_ids: int32(batch.input_ids),
      attention_mask: int32(batch.attention_mask),
    });
    await session.release();
    const ref = tensors(`${ROBERTA}/outputs.safetensors`);
    const embErr = maxDiff(out.sentence_embedding.data as Float32Array, ref.get('sentence_embedding')!);
    const tok = out.token_embeddings.data as Float32Array;
    const first = Float32Array.from({ length: 4 * 64 }, (_, i) => tok[Math.floor(i / 64) * 16 * 64 + (i % 64)]);
    const firstErr = maxDiff(first, ref.get('first_token_hidden_state')!);
    console.log('tiny-roberta-forward max |Δ|', { sentence_embedding: embErr, first_token_hidden_state: firstErr });
    expect(embErr).toBeLessThanOrEqual(expected.tolerances.sentence_embedding_abs);
    expect(firstErr).toBeLessThanOrEqual(expected.tolerances.first_token_hidden_state_abs);
  });
});
