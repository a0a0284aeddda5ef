// `train --lora`: a run that trains adapters only resumes bit-exactly, keeps AdamW moments for
// the adapters alone, and saves a plain model (no LoRA keys) whose embeddings match the
// unmerged adapters' within 1e-5.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../model/load.js';
import { Graph, hostTensor } from '../graph/index.js';
import { evaluate } from '../../../../test/support/grad-check.js';
import { encoderForward, paramSpecs, sentenceEmbedding, specFromHfConfig } from '../nn/index.js';
import { loraSpecOf, loraStep } from '../nn/lora-step.js';
import { withLora } from '../nn/lora.js';
import { parseSafetensors, toFloat32 } from '../model/safetensors.js';
import { listCheckpoints, loadCheckpoint, checkpointDir } from './checkpoint.js';
import { trainRun } from './run.js';
import type { TrainSettings } from './settings.js';
import { readMetrics, trainSettings, wordPairsWorkspace } from '../../../../test/support/train-fixture.js';

let root: string, model: string, pairs: string;
beforeAll(async () => void ({ root, model, pairs } = await wordPairsWorkspace('es-lora-')));
afterAll(() => rm(root, { recursive: true, force: true }));

const settings = (o: Partial<TrainSettings> = {}): TrainSettings =>
  trainSettings({ model, data: pairs, batchSize: 4, lr: 1e-2, maxLength: 16, maxSteps: 6, checkpointEvery: 2, dropout: 0.1, lora: 4, ...o });
const metrics = async (run: string) => (await readMetrics(run)).map(({ pairsPerSec: _, ...r }) => r);

describe('train --lora', () => {
  it('resumes bit-exactly and keeps moments for the adapters only', async () => {
    const full = join(root, 'full');
    await trainRun(settings(), full);
    const cut = join(root, 'cut');
    const ctl = new AbortController();
    await trainRun(settings(), cut, { signal: ctl.signal, onProgress: (p) => p.step === 3 && ctl.abort() });
    await trainRun(settings(), cut, { resume: true });
    expect(await metrics(cut)).toEqual(await metrics(full));
    expect(Buffer.compare(await readFile(join(full, 'model', 'model.safetensors')), await readFile(join(cut, 'model', 'model.safetensors')))).toBe(0);
    const steps = await listCheckpoints(full);
    const cp = await loadCheckpoint(checkpointDir(full, steps[steps.length - 1]));
    expect([...cp.optimizer.m.keys()].every((k) => /\.lora_[AB]\.weight$/.test(k))).toBe(true);
    expect(cp.optimizer.m.size).toBe(2 * 6 * 2); // 2 layers × 6 linears (query, key, value, 3 dense) × (A, B)
  });

  it('saves a plain model whose embeddings match the unmerged adapters within 1e-5', async () => {
    const run = join(root, 'merged');
    const r = await trainRun(settings({ maxSteps: 4, dropout: 0, loraTargets: ['query', 'value'], loraAlpha: 8 }), run);
    const expected = (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw));
    const saved = await loadModelFolder(r.modelDir!, { expected }); // refuses unknown keys: no lora_A/lora_B left
    expect([...saved.params.keys()].some((k) => k.includes('lora_'))).toBe(false);
    const base = await loadModelFolder(model, { expected });
    const spec = specFromHfConfig(base.config.raw);
    const specs = paramSpecs(spec);
    const lora = loraSpecOf({ rank: 4, alpha: 8, dropout: 0, targets: ['query', 'value'] }, specs);
    const step = loraStep(specs, lora);
    const cp = await loadCheckpoint(checkpointDir(run, 4));
    const q = 'encoder.layer.0.attention.self.query.weight';
    expect(saved.params.get(q)).not.toEqual(base.params.get(q)); // the adapters were merged in
    const k = 'encoder.layer.0.attention.self.key.weight';
    expect(saved.params.get(k)).toEqual(base.params.get(k)); // not a target: untouched

    const ids = Int32Array.from([101, 2054, 2003, 6207, 102, 0, 101, 3345, 2003, 1037, 2518, 102]);
    const mask = Int32Array.from(ids, (x) => (x === 0 ? 0 : 1));
    const embed = async (values: ReadonlyMap<string, Float32Array>, adapted: boolean) => {
      const keys = adapted ? [...specs, ...step.params] : specs;
      const g = new Graph('lora-run');
      const t = Object.fromEntries(keys.map((p) => [p.key, g.input(p.key, 'float32', p.shape)]));
      const inIds = g.input('input_ids', 'int32', [2, 6]);
      const inMask = g.input('attention_mask', 'int32', [2, 6]);
      const tt = g.input('token_type_ids', 'int32', [2, 6]);
      const h = encoderForward(spec, adapted ? withLora(t, step.adapters, lora) : t, { inputIds: inIds, attentionMask: inMask, tokenTypeIds: tt });
      g.output(sentenceEmbedding(spec, h, inMask), 'e');
      const feeds = Object.fromEntries(keys.map((p) => [p.key, hostTensor('float32', p.shape, values.get(p.key)!)]));
      const out = await evaluate(g, { ...feeds, input_ids: hostTensor('int32', [2, 6], ids), attention_mask: hostTensor('int32', [2, 6], mask), token_type_ids: hostTensor('int32', [2, 6], new Int32Array(12)) });
      return out.e.data as Float32Array;
    };
    const merged = await embed(saved.params, false);
    const unmerged = await embed(cp.params, true);
    let worst = 0;
    for (let i = 0; i < merged.length; i++) worst = Math.max(worst, Math.abs(merged[i] - unmerged[i]));
    expect(worst).toBeLessThanOrEqual(1e-5);
    // The PEFT adapter folder beside it holds the same adapters under PEFT's names.
    const adapter = parseSafetensors(await readFile(join(run, 'adapter', 'adapter_model.safetensors')));
    expect([...adapter.tensors.keys()].sort()).toEqual(step.params.map((p) => `base_model.model.${p.key}`).sort());
    for (const p of step.params) expect(toFloat32(adapter.tensors.get(`base_model.model.${p.key}`)!, p.key)).toEqual(cp.params.get(p.key));
    const config = JSON.parse(await readFile(join(run, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['query', 'value'], lora_dropout: 0 });
    const before = await embed(base.params, false);
    let moved = 0;
    for (let i = 0; i < merged.length; i++) moved = Math.max(moved, Math.abs(merged[i] - before[i]));
    expect(moved).toBeGreaterThan(1e-3); // training changed the embeddings
  });

  it('refuses adapter dropout and LoRA flags without a rank, by name', async () => {
    await expect(trainRun(settings({ loraDropout: 0.1 }), join(root, 'drop'))).rejects.toThrow(/--lora-dropout/);
    await expect(trainRun(settings({ lora: null, loraAlpha: 8 }), join(root, 'norank'))).rejects.toThrow(/--lora/);
  });
});
