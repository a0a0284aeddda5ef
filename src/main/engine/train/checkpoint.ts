// Checkpoints: everything a run needs to continue bit-exactly — parameters, both AdamW
// moments, the step count (AdamW's t, the schedule, the dropout stream and the batch plan
// all follow from it) and the loop's own state (lr scale after skipped steps, best eval,
// evals without improvement). A checkpoint is written to a temporary folder, fsynced and
// renamed to RUN_DIR/checkpoints/step-N, so a kill at any moment leaves whole checkpoints only.

import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { parseSafetensors, toFloat32, writeSafetensors } from '../model/safetensors.js';
import type { OptimizerState } from '../runtime/index.js';
import { withIo } from '../workspace/fs-errors.js';
import { parseJsonFile } from '../workspace/json-file.js';
import type { InputFingerprint } from './resume-check.js';
import { syncDir, tempPathFor, writeFileAtomic } from '../workspace/atomic.js';
import type { LossScalerState } from './loss-scaler.js';

export interface LoopState {
  /** Optimizer steps taken (= trainer.stepCount). */
  step: number;
  /** Multiplies the schedule's rate; halved after each non-finite step. */
  lrScale: number;
  skippedSteps: number;
  best: { metric: string; value: number; step: number } | null;
  /** Evaluations since the best one (early stopping's patience counter). */
  sinceBest: number;
  /** fp16 runs: the dynamic loss scale and its clean-step count (loss-scaler.ts); null in fp32. */
  scaler: LossScalerState | null;
}

export interface Checkpoint {
  loop: LoopState;
  params: Map<string, Float32Array>;
  optimizer: OptimizerState;
  /** What the run was trained on (resume-check.ts); absent in checkpoints of earlier versions. */
  inputs?: InputFingerprint;
}

const STATE_FILE = 'trainer-state.json';

function tensors(map: Map<string, Float32Array>, prefix = ''): [string, { dtype: 'F32'; shape: number[]; data: Float32Array }][] {
  return [...map].map(([k, a]) => [prefix + k, { dtype: 'F32', shape: [a.length], data: a }]);
}

async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  await withIo(path, 'write', async () => {
    const fh = await open(path, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
}

export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, 'checkpoints', `step-${step}`);
}

/** Writes RUN_DIR/checkpoints/step-N (or `name`) whole or not at all; returns its folder. */
export async function saveCheckpoint(runDir: string, c: Checkpoint, name = `step-${c.loop.step}`): Promise<string> {
  const root = join(runDir, 'checkpoints');
  await mkdir(root, { recursive: true });
  const target = join(root, name);
  const temp = tempPathFor(target);
  await mkdir(temp);
  try {
    // Flat [n] shapes: the trainer checks element counts against its graph on the way back in.
    await writeSynced(join(temp, 'params.safetensors'), writeSafetensors(tensors(c.params)));
    await writeSynced(join(temp, 'optimizer.safetensors'), writeSafetensors([...tensors(c.optimizer.m, 'm.'), ...tensors(c.optimizer.v, 'v.')]));
    await writeSynced(join(temp, STATE_FILE), JSON.stringify({ ...c.loop, optimizerStep: c.optimizer.step, ...(c.inputs ? { inputs: c.inputs } : {}) }, null, 2) + '\n');
    await syncDir(temp);
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
    await syncDir(root);
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  return target;
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  try {
    const stateFile = join(dir, STATE_FILE);
    const raw = checkLoopState(parseJsonFile(stateFile, await readFile(stateFile, 'utf8')), stateFile, dir) as LoopState & { optimizerStep: number; inputs?: InputFingerprint };
    const params = new Map<string, Float32Array>();
    for (const [k, t] of parseSafetensors(await readFile(join(dir, 'params.safetensors'))).tensors) params.set(k, toFloat32(t, k));
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [k, t] of parseSafetensors(await readFile(join(dir, 'optimizer.safetensors'))).tensors) {
      (k.startsWith('m.') ? m : v).set(k.slice(2), toFloat32(t, k));
    }
    const { optimizerStep, inputs, ...loop } = raw;
    return { loop, params, optimizer: { step: optimizerStep, m, v }, ...(inputs ? { inputs } : {}) };
  } catch (e) {
    if (e instanceof EngineError) throw e; // already names the file and the fix
    throw new EngineError('SCHEMA', `checkpoint ${dir} cannot be read (${(e as Error).message}); delete it to resume from an earlier one`, { path: dir });
  }
}

/** Step numbers of the complete checkpoints under RUN_DIR/checkpoints, ascending. */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  const names = await readdir(join(runDir, 'checkpoints')).catch(() => [] as string[]);
  return names
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Keeps the newest `keep` step checkpoints (and 'best'); removes older ones. */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const steps = await listCheckpoints(runDir);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) await rm(checkpointDir(runDir, s), { recursive: true, force: true });
}

export async function writeTextSynced(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text);
}

/** trainer-state.json's fields, each checked: a damaged file is named, not "Cannot destructure property 'epoch'" later. */
function checkLoopState(raw: unknown, file: string, dir: string): LoopState & { optimizerStep: number } {
  const bad = (key: string, v: unknown, want: string) =>
    new EngineError('SCHEMA', `${file}: '${key}' is ${JSON.stringify(v) ?? 'missing'}; expected ${want}. The checkpoint's state is damaged. Fix: delete ${dir} to resume from the checkpoint before it, or train again without --resume`, { file, key });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(the file)', raw, 'a JSON object');
  const o = raw as Record<string, unknown>;
  for (const key of ['step', 'skippedSteps', 'sinceBest', 'optimizerStep']) {
    if (!Number.isSafeInteger(o[key]) || (o[key] as number) < 0) throw bad(key, o[key], 'a whole number ≥ 0');
  }
  if (typeof o.lrScale !== 'number' || !(o.lrScale > 0) || !Number.isFinite(o.lrScale)) throw bad('lrScale', o.lrScale, 'a number above 0');
  const best = o.best as Record<string, unknown> | null;
  if (best !== null && (typeof best !== 'object' || typeof best.metric !== 'string' || typeof best.value !== 'number' || !Number.isSafeInteger(best.step))) {
    throw bad('best', best, 'null or {metric, value, step}');
  }
  return o as unknown as LoopState & { optimizerStep: number };
}
