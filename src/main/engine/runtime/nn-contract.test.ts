// engine/nn's real step graph (a tiny BERT: InfoNCE with a hard negative, dropout, clipping,
// AdamW) through the runtime's trainer: the contract holds end to end, the CPU and WebGPU
// EPs agree, and every node of the real graph is placed on WebGPU. Numeric parity with
// PyTorch is nn's own test; this one checks the plumbing between the two rooms.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EncoderSpec, buildTrainStep } from '../nn/index.js';
import { probeDevice } from './device.js';
import { dropoutKey } from './dropout.js';
import { mulberry32 } from '../../../shared/random.js';
import { randomParams } from '../../../../test/support/tiny-step.js';
import { packSlot, stateSlots } from './contract.js';
import { stateNameMaps } from './params.js';
import { type Device, createSession } from './session.js';
import { StateStore, stateOutputLocations } from './state.js';
import { createTrainer } from './trainer.js';

const SPEC: EncoderSpec = {
  // 6 layers as MiniLM: its flat state splits into more pieces than one WebGPU Split may output (ops.split).
  arch: 'bert', vocabSize: 40, hidden: 8, layers: 6, heads: 2, intermediate: 16, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true, hiddenDropout: 0.1, attentionDropout: 0.1,
};
const SHAPE = { batch: 2, length: 8 }; // 2 queries, each with a positive and 1 negative: 6 rows
const initialParams = () => randomParams(SPEC, 0.2);
const build = (s: { batch: number; length: number }) => buildTrainStep(SPEC, { queries: s.batch, negativesPerQuery: 1, length: s.length });

// Not test/support's randomBertBatch: this draws an id for every slot, padding included, so its
// rows differ, and three dropout steps on randomBertBatch's rows do not lower the loss.
function batch(): Record<string, Int32Array> {
  const random = mulberry32(23);
  const rows = 6;
  const lens = Array.from({ length: rows }, () => 3 + Math.floor(random() * 6));
  const at = (r: number, l: number, v: number) => (l < lens[r] ? v : 0);
  const grid = (f: (r: number, l: number) => number) => Int32Array.from({ length: rows * SHAPE.length }, (_, i) => f(Math.floor(i / SHAPE.length), i % SHAPE.length));
  return {
    input_ids: grid((r, l) => at(r, l, l === 0 ? 1 : 2 + Math.floor(random() * 38))),
    attention_mask: grid((r, l) => at(r, l, 1)),
    token_type_ids: grid(() => 0),
  };
}

async function train(device: Device) {
  const trainer = await createTrainer({ device, buildStep: build, initialParams: initialParams(), lr: () => 1e-2, seed: 1, threads: 1 });
  const data = batch();
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await trainer.step(data, SHAPE));
  const location = trainer.state.get('p.flat.decay').location;
  const params = await trainer.getParams();
  await trainer.dispose();
  return { results, params, location };
}

const webgpu = await probeDevice('webgpu');
const tmp = mkdtempSync(join(tmpdir(), 'embedsmith-nn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('nn step graph through the trainer', () => {
  it('trains on the CPU: finite, falling loss; every parameter moves', async () => {
    const init = initialParams();
    const { results, params } = await train('cpu');
    for (const r of results) {
      expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm) && r.gradNorm > 0).toBe(true);
    }
    expect(results[2].loss).toBeLessThan(results[0].loss);
    expect([...params.keys()].sort()).toEqual([...init.keys()].sort());
    const still = [...params].filter(([k, v]) => v.every((x, i) => x === init.get(k)![i])).map(([k]) => k);
    // The key bias is allowed to stay: its gradient is zero up to rounding (softmax is
    // shift-invariant; DESIGN §3), and whether Adam amplifies that rounding is not our business.
    expect(still.filter((k) => !k.endsWith('attention.self.key.bias'))).toEqual([]);
  });

  it.skipIf(!webgpu.ok)('agrees between the CPU and WebGPU EPs (1e-4) with state on the GPU', async () => {
    const cpu = await train('cpu');
    const gpu = await train('webgpu');
    expect(gpu.location).toBe('gpu-buffer');
    for (const [i, r] of gpu.results.entries()) {
      expect(Math.abs(r.loss - cpu.results[i].loss), `loss ${i}`).toBeLessThan(1e-4);
      expect(Math.abs(r.gradNorm - cpu.results[i].gradNorm) / cpu.results[i].gradNorm, `grad norm ${i}`).toBeLessThan(1e-4);
    }
    for (const [k, v] of cpu.params) {
      const g = gpu.params.get(k)!;
      expect(Math.max(...v.map((x, i) => Math.abs(x - g[i]))), k).toBeLessThan(1e-4);
    }
  });

  it.skipIf(!webgpu.ok)('places every node of the real step graph on the WebGPU EP (profiler), no Memcpy', async () => {
    const step = build(SHAPE);
    const slots = stateSlots(step);
    const { updates } = stateNameMaps(slots);
    const outputLocations = stateOutputLocations('webgpu', Object.keys(updates), ['loss', 'grad_norm']);
    const session = await createSession(step.model, { device: 'webgpu', threads: 1, outputLocations, profilePrefix: join(tmp, 'bert') });
    const state = new StateStore('webgpu');
    const init = initialParams();
    for (const s of slots) {
      const zeros = new Float32Array(s.shape[0]);
      await state.set(`p.${s.name}`, { dtype: 'float32', shape: s.shape, data: packSlot(s, init) });
      await state.set(`m.${s.name}`, { dtype: 'float32', shape: s.shape, data: zeros });
      await state.set(`v.${s.name}`, { dtype: 'float32', shape: s.shape, data: zeros });
    }
    const feeds: Record<string, { dtype: 'float32' | 'int32' | 'bool'; shape: number[]; data: Float32Array | Int32Array | Uint8Array }> = {};
    for (const [name, data] of Object.entries(batch())) feeds[name] = { dtype: 'int32', shape: [6, SHAPE.length], data };
    // Masks hashed in the graph (nn/device-dropout.ts): its int32 Mul/Div/Add, Cast and Less, and
    // Where with the bool result, must stay on WebGPU too.
    expect(step.dropoutInGraph && step.dropout.length).toBeTruthy();
    feeds.dropout_key = { dtype: 'int32', shape: [], data: new Int32Array([dropoutKey(1, 0)]) };
    for (const s of ['adam_step_size', 'adam_inv_bias2', 'decay_factor']) feeds[s] = { dtype: 'float32', shape: [], data: new Float32Array([s === 'adam_step_size' ? 1e-3 : 1]) };
    await state.run(session, { feeds, updates, fetch: ['loss', 'grad_norm'] });
    session.endProfiling();
    const file = readdirSync(tmp).find((f) => f.startsWith('bert'))!;
    const events = JSON.parse(readFileSync(join(tmp, file), 'utf8')) as { cat: string; name: string; args?: { op_name?: string; provider?: string } }[];
    const nodes = events.filter((e) => e.cat === 'Node' && e.args?.provider);
    expect(nodes.length).toBeGreaterThan(200);
    expect(nodes.filter((e) => e.args!.op_name === 'Where').length).toBeGreaterThanOrEqual(2 * step.dropout.length); // forward + backward
    expect(nodes.filter((e) => e.args!.op_name === 'Div').length).toBeGreaterThanOrEqual(3); // the hash's rotations
    expect(nodes.filter((e) => e.args!.provider !== 'WebGpuExecutionProvider').map((e) => `${e.args!.op_name} ${e.name}`)).toEqual([]);
    expect(nodes.filter((e) => e.args!.op_name?.startsWith('Memcpy')).map((e) => e.name)).toEqual([]);
    await session.release();
    await state.dispose();
  });
});
