// Mixed precision reaches every encoder family through the one autocast region: the MPNet,
// ModernBERT and Qwen3 fixtures embed in fp16 within float16 rounding of their float32 embeddings and
// train two steps as fp32 does (the
// fixtures' float32 parity with torch is family-parity.test.ts). CPU EP, which computes the
// float16 nodes through float32 casts with every result rounded to float16.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor } from '../graph/index.js';
import { parseSafetensors, toFloat32 } from '../model/safetensors.js';
import { createSession } from '../runtime/session.js';
import { createTrainer } from '../runtime/trainer.js';
import { specFromHfConfig } from './encoder.js';
import { buildEncode, buildTrainStep } from './graphs.js';
import { readJson as json } from '../../../../test/support/torch-fixture.js';


describe('fp16 encoders of every family', () => {
  for (const name of ['tiny-mpnet-step', 'tiny-modernbert-step', 'tiny-modernbert-bias-step', 'tiny-bert-step', 'tiny-qwen3-step']) {
    it(`${name}: fp16 embeddings within cosine 0.999 of fp32, two fp16 steps follow fp32`, async () => {
      const dir = `test/fixtures/${name}`;
      const expected = json(`${dir}/expected.json`);
      const spec = specFromHfConfig(json(`${dir}/config.json`), { pooling: expected.pooling ?? 'mean', normalize: true });
      const init = new Map([...parseSafetensors(readFileSync(`${dir}/params.safetensors`)).tensors].map(([k, t]) => [k, toFloat32(t, k)]));
      const [b, l] = [4, 16];
      const ids = Array.from({ length: b * l }, (_, i) => (i % l < 6 + (i % 5) ? 5 + ((i * 7) % 40) : spec.padTokenId));
      const embed = async (precision: 'fp32' | 'fp16') => {
        const enc = buildEncode(spec, { batch: b, length: l }, precision);
        const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
        const feeds: Record<string, HostTensor> = Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, init.get(p.key)!)]));
        for (const d of enc.data) feeds[d.name] = hostTensor('int32', d.shape, d.name === 'attention_mask' ? ids.map((t) => Number(t !== spec.padTokenId)) : d.name === 'input_ids' ? ids : ids.map(() => 0));
        const out = await session.run(feeds);
        await session.release();
        return out.sentence_embedding.data as Float32Array;
      };
      const [a, h] = [await embed('fp32'), await embed('fp16')];
      const d = a.length / b;
      for (let r = 0; r < b; r++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += a[r * d + i] * h[r * d + i];
        expect(dot, `row ${r}`).toBeGreaterThan(0.999);
      }
      expect(h).not.toEqual(a);

      // Two training steps: the fp16 step's loss and gradient norm follow fp32's.
      const rows = 6; // 2 queries, their positives and one negative each: the embedded rows, repeated
      const batch: Record<string, Int32Array> = {
        input_ids: Int32Array.from({ length: rows * l }, (_, i) => ids[i % ids.length]),
        attention_mask: Int32Array.from({ length: rows * l }, (_, i) => Number(ids[i % ids.length] !== spec.padTokenId)),
      };
      if (spec.typeVocabSize > 1) batch.token_type_ids = new Int32Array(rows * l);
      // The repeated rows make the negatives copies of the queries: tiny Qwen3's RMSNorm-ed q/k
      // then give gradient norms near 300 (loss 18), whose float16 intermediates overflow from a
      // loss scale of 2^8 on (the loop's GradScaler would halve it); 2^4 keeps them finite.
      const lossScale = name === 'tiny-qwen3-step' ? 2 ** 4 : 2 ** 10;
      const run = async (precision: 'fp32' | 'fp16') => {
        const t = await createTrainer({ device: 'cpu', threads: 1, initialParams: init, lr: () => 1e-3, lossScale: () => lossScale, buildStep: (s) => buildTrainStep({ ...spec, hiddenDropout: 0, attentionDropout: 0 }, { queries: s.batch, negativesPerQuery: 1, length: s.length }, { precision }) });
        const out = [await t.step(batch, { batch: 2, length: l }), await t.step(batch, { batch: 2, length: l })];
        await t.dispose();
        return out;
      };
      const [f32, f16] = [await run('fp32'), await run('fp16')];
      f32.forEach((r, i) => {
        expect(Math.abs(f16[i].loss - r.loss) / r.loss, `loss ${i}`).toBeLessThan(1e-2);
        expect(Math.abs(f16[i].gradNorm - r.gradNorm) / r.gradNorm, `grad norm ${i}`).toBeLessThan(3e-2);
      });
    });
  }
});
