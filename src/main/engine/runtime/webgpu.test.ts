// The runtime on the WebGPU EP (lavapipe in CI: tiny graphs only, it is a software GPU).
// Without a working WebGPU adapter the first test FAILS, so CI cannot skip these silently;
// a machine that cannot have one sets EMBEDSMITH_NO_WEBGPU=1 to skip them on purpose.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../graph/dtype.js';
import { mulberry32 } from '../../../shared/random.js';
import { createEncoder } from './encoder.js';
import { stateSlots } from './contract.js';
import { stateNameMaps } from './params.js';
import { type Device, type DeviceTensor, createSession } from './session.js';
import { StateStore, stateOutputLocations } from './state.js';
import { buildToyEncode, buildToyStep, toyBatch, toyInitialParams } from './toy.js';
import { type StepResult, createTrainer } from './trainer.js';
import { probeWebgpu } from '../../../../test/support/webgpu.js';

const probe = await probeWebgpu();
const tmp = mkdtempSync(join(tmpdir(), 'embedsmith-webgpu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHAPES = [{ batch: 2, length: 4 }, { batch: 3, length: 8 }, { batch: 2, length: 4 }];
const lr = (step: number) => 0.05 / (step + 1);

type Trainer = Awaited<ReturnType<typeof createTrainer>>;

async function train(device: Device, onStep?: (trainer: Trainer, before: Map<string, DeviceTensor>) => void) {
  const trainer = await createTrainer({
    device,
    buildStep: (s) => buildToyStep(s),
    initialParams: toyInitialParams(),
    lr,
    seed: 9,
    threads: 1,
  });
  const random = mulberry32(21);
  const results: StepResult[] = [];
  for (const shape of SHAPES) {
    const before = new Map(trainer.state.names.map((n) => [n, trainer.state.get(n)]));
    results.push(await trainer.step(toyBatch(random, shape).data, shape));
    onStep?.(trainer, before);
  }
  const params = await trainer.getParams();
  const opt = await trainer.getOptimizerState();
  return { trainer, results, params, opt };
}

describe.skipIf(!probe.ok)('runtime on WebGPU', () => {
  it('trains the toy step like the CPU EP (1e-4) over 3 steps in 2 buckets, state staying on the GPU', async () => {
    const cpu = await train('cpu');
    let swapped = 0;
    const gpu = await train('webgpu', (trainer, before) => {
      for (const name of trainer.state.names) {
        const now = trainer.state.get(name);
        expect(now.location, name).toBe('gpu-buffer');
        const old = before.get(name);
        if (old) {
          expect(now).not.toBe(old);
          expect(old.location, `replaced ${name} disposed`).toBe('none');
          swapped++;
        }
      }
    });
    expect(swapped).toBe(2 * 9); // steps 2 and 3 each replace p, m, v of 3 params
    for (const [i, r] of gpu.results.entries()) {
      expect(Math.abs(r.loss - cpu.results[i].loss), `loss ${i}`).toBeLessThan(1e-4);
      expect(Math.abs(r.gradNorm - cpu.results[i].gradNorm), `grad norm ${i}`).toBeLessThan(1e-4);
    }
    for (const [key, p] of cpu.params) {
      expect(maxDiff(gpu.params.get(key)!, p), key).toBeLessThan(1e-4);
      expect(maxDiff(gpu.opt.m.get(key)!, cpu.opt.m.get(key)!), `m ${key}`).toBeLessThan(1e-4);
      expect(maxDiff(gpu.opt.v.get(key)!, cpu.opt.v.get(key)!), `v ${key}`).toBeLessThan(1e-4);
    }
    expect(gpu.trainer.buckets).toHaveLength(2);
    const last = gpu.trainer.state.get('p.emb.weight');
    await gpu.trainer.dispose();
    await cpu.trainer.dispose();
    expect(last.location).toBe('none');
  });

  it('places every node of the toy step on the WebGPU EP (profiler) with no Memcpy', async () => {
    const shape = { batch: 2, length: 4 };
    const step = buildToyStep(shape);
    const { updates } = stateNameMaps(stateSlots(step));
    const locations = stateOutputLocations('webgpu', Object.keys(updates), ['loss', 'grad_norm']);
    const session = await createSession(step.model, { device: 'webgpu', threads: 1, outputLocations: locations, profilePrefix: join(tmp, 'step') });
    const state = new StateStore('webgpu');
    const params = toyInitialParams();
    for (const s of step.params) {
      await state.set(`p.${s.key}`, hostTensor('float32', s.shape, params.get(s.key)!));
      await state.set(`m.${s.key}`, hostTensor('float32', s.shape, new Float32Array(params.get(s.key)!.length)));
      await state.set(`v.${s.key}`, hostTensor('float32', s.shape, new Float32Array(params.get(s.key)!.length)));
    }
    const scalar = (v: number) => hostTensor('float32', [], [v]);
    const feeds = {
      ...toyBatchFeeds(shape),
      'dropout.pooled': hostTensor('bool', [2, 4], [1, 0, 1, 1, 0, 1, 1, 1]), // bool keep mask: Where on WebGPU
      adam_step_size: scalar(0.01),
      adam_inv_bias2: scalar(1),
      decay_factor: scalar(1),
    };
    const out = await state.run(session, { feeds, updates, fetch: ['loss', 'grad_norm'] });
    expect(Number.isFinite(out.loss.data[0] as number)).toBe(true);
    session.endProfiling();
    const file = readdirSync(tmp).find((f) => f.startsWith('step'));
    const events = JSON.parse(readFileSync(join(tmp, file!), 'utf8')) as { cat: string; name: string; args?: { op_name?: string; provider?: string } }[];
    const nodes = events.filter((e) => e.cat === 'Node' && e.args?.provider);
    expect(nodes.length).toBeGreaterThan(20);
    expect(nodes.filter((e) => e.args!.provider !== 'WebGpuExecutionProvider').map((e) => `${e.name} on ${e.args!.provider}`)).toEqual([]);
    expect(nodes.filter((e) => e.args!.op_name?.startsWith('Memcpy')).map((e) => e.name)).toEqual([]);
    await session.release();
    await state.dispose();
  });

  it("places every node on WebGPU according to onnxruntime's verbose log (child process)", () => {
    // ort's log goes to the native stderr, which only a child process can capture.
    const step = buildToyStep({ batch: 2, length: 4 });
    const model = join(tmp, 'step.onnx');
    writeFileSync(model, step.model);
    const session = pathToFileURL(join(process.cwd(), 'dist/main/engine/runtime/session.js')).href;
    const script = `import { createSession } from '${session}'; import { readFileSync } from 'node:fs';
      const s = await createSession(readFileSync(process.argv[1]), { device: 'webgpu', threads: 1, logLevel: 'verbose' });
      await s.release();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, model], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const placement = r.stderr.split('\n').filter((l) => /placed on \[/.test(l));
    expect(placement.join('\n')).toMatch(/All nodes placed on \[WebGpuExecutionProvider\]/);
    expect(placement.join('\n')).not.toMatch(/CPUExecutionProvider/);
  });

  it('uploads and reads back state through Identity sessions, and embeds like the CPU', async () => {
    const state = new StateStore('webgpu');
    const values = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
    await state.set('w', hostTensor('float32', [3, 4], values));
    expect(state.get('w').location).toBe('gpu-buffer');
    const back = await state.read('w');
    expect(back.shape).toEqual([3, 4]);
    expect(back.data).toEqual(values);
    await state.dispose();

    const params = toyInitialParams(undefined, 3);
    const shape = { batch: 3, length: 8 };
    const data = toyBatch(mulberry32(5), shape).data;
    const embed = async (device: Device) => {
      const enc = await createEncoder({ device, buildEncode: buildToyEncode, params, threads: 1 });
      const e = await enc.embed(data, shape);
      await enc.dispose();
      return e;
    };
    expect(maxDiff(await embed('webgpu'), await embed('cpu'))).toBeLessThan(1e-5);
  });
});

function toyBatchFeeds(shape: { batch: number; length: number }) {
  const b = toyBatch(mulberry32(1), shape).data;
  return {
    input_ids: hostTensor('int32', [shape.batch, shape.length], b.input_ids),
    attention_mask: hostTensor('int32', [shape.batch, shape.length], b.attention_mask),
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
