// Times one StepGraph on one device the way the trainer runs it: session create, first run
// (WebGPU compiles its shaders here), steady runs, and reading the parameters back. Shared
// by device-probe (toy graph) and the MiniLM train-step bench (engine/nn's graph).

import type { BucketShape } from '../runtime/buckets.js';
import type { StepGraph } from '../runtime/contract.js';
import { createTrainer } from '../runtime/trainer.js';
import type { Device } from '../runtime/session.js';

export interface StepTimings {
  device: Device;
  shape: BucketShape;
  /** buildStep: graph construction + serialisation. */
  buildMs: number;
  /** First step minus build: session create + parameter upload + first run. */
  firstStepMs: number;
  /** Median of the steady steps. */
  steadyMs: number;
  steadyRuns: number;
  /** getParams: every parameter back to the host. */
  readBackMs: number;
  loss: number;
  /** Where the first parameter lived after the last step ('gpu-buffer' on WebGPU). */
  stateLocation: string;
  /** Parameters after 1 + steadyRuns steps, to compare devices. */
  params: Map<string, Float32Array>;
}

export async function timeSteps(
  device: Device,
  shape: BucketShape,
  buildStep: (shape: BucketShape) => StepGraph,
  batch: Record<string, Int32Array>,
  initialParams: Map<string, Float32Array>,
  steadyRuns = 10,
  /** Mixed-precision step graphs: the loss scale fed every step (GradScaler's starting 2^16). */
  lossScale?: number,
): Promise<StepTimings> {
  let buildMs = 0;
  const trainer = await createTrainer({
    device,
    buildStep: (s) => {
      const t = performance.now();
      const g = buildStep(s);
      buildMs = performance.now() - t;
      return g;
    },
    initialParams,
    lr: () => 1e-4,
    lossScale: lossScale === undefined ? undefined : () => lossScale,
  });
  try {
    let t = performance.now();
    await trainer.step(batch, shape);
    const firstStepMs = performance.now() - t - buildMs;
    const times: number[] = [];
    let loss = NaN;
    for (let i = 0; i < steadyRuns; i++) {
      t = performance.now();
      loss = (await trainer.step(batch, shape)).loss;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const stateLocation = trainer.state.get(trainer.state.names[0]).location;
    t = performance.now();
    const params = await trainer.getParams();
    const readBackMs = performance.now() - t;
    const steadyMs = times[Math.floor(times.length / 2)];
    return { device, shape, buildMs, firstStepMs, steadyMs, steadyRuns, readBackMs, loss, stateLocation, params };
  } finally {
    await trainer.dispose();
  }
}

/** Parameter count, for reports. */
export function paramCount(params: Map<string, Float32Array>): number {
  let n = 0;
  for (const a of params.values()) n += a.length;
  return n;
}

/** Largest |a - b| over every parameter. */
export function maxParamDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

export const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0)) + ' ms';
export const shapeLabel = (s: BucketShape): string => `${s.batch}×${s.length}`;
