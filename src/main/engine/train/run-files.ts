// The run folder's files around the loop (run.ts): the lock that keeps one training per folder,
// the checkpoint --resume continues from, and what metrics.jsonl says about the run so far.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';
import type { Trainer } from '../runtime/index.js';
import { ioError } from '../workspace/atomic.js';
import { withFolderLock } from '../workspace/lock.js';
import { type LoopState, listCheckpoints, loadCheckpoint, checkpointDir, writeTextSynced } from './checkpoint.js';
import { type InputFingerprint, checkCheckpointTensors, fingerprintMismatch, metricsUpTo } from './resume-check.js';
import type { StepRecord } from './run.js';

/**
 * Runs `fn` holding RUN_DIR/run.lock: two trainings into one folder would interleave
 * metrics.jsonl and leave the config of one beside the model of the other, so the second is
 * refused, naming the first. A folder this call created and nothing filled is removed again.
 */
export async function withRunFolder<T>(runDir: string, log: ((line: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  const existing = await stat(runDir).catch(() => null);
  if (existing && !existing.isDirectory()) {
    throw new EngineError('BAD_INPUT', `--out ${runDir} is a file, not a run folder. Fix: choose a new folder name for --out (the file is left as it is).`, { setting: 'out', path: runDir });
  }
  const made = await mkdir(runDir, { recursive: true }).catch((e) => {
    throw ioError(e, runDir, 'create the run folder');
  });
  try {
    return await withFolderLock(runDir, 'run', (note) => {
      if (note) log?.(note);
      return fn();
    });
  } finally {
    if (made !== undefined) await rmdir(runDir).catch(() => {}); // fails, as it should, once the run wrote anything
  }
}

/** The evaluation of the parameters being saved: the best step's, else the last step's (from metrics.jsonl, so a resumed run has it too). */
export async function savedMetrics(metricsPath: string, loop: LoopState): Promise<Record<string, number> | undefined> {
  const records = (await readFile(metricsPath, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as StepRecord);
  const at = loop.best ? loop.best.step : loop.step;
  return records.find((r) => r.step === at && r.eval)?.eval;
}

/** The loss of the last step in metrics.jsonl, or null (none, or a torn last line). */
export async function lastLoss(metricsPath: string): Promise<number | null> {
  const lines = existsSync(metricsPath) ? (await readFile(metricsPath, 'utf8')).split('\n').filter((l) => l !== '') : [];
  try {
    const loss = (JSON.parse(lines[lines.length - 1] ?? 'null') as StepRecord | null)?.loss;
    return typeof loss === 'number' ? loss : null;
  } catch {
    return null;
  }
}

/**
 * Loads the newest checkpoint into the trainer and cuts metrics.jsonl back to its step, after
 * checking that it holds every tensor and was made from the inputs this run has now.
 */
export async function restore(
  trainer: Trainer,
  runDir: string,
  loop: LoopState,
  metricsPath: string,
  log: (s: string) => void,
  check: { expected: ReadonlyMap<string, readonly number[]>; trained?: ReadonlySet<string>; inputs: InputFingerprint; data: string; model: string },
): Promise<void> {
  const steps = await listCheckpoints(runDir);
  if (steps.length === 0) {
    log('--resume: no checkpoint yet; starting from step 0');
    await writeTextSynced(metricsPath, '');
    return;
  }
  const at = steps[steps.length - 1];
  const dir = checkpointDir(runDir, at);
  const cp = await loadCheckpoint(dir);
  if (cp.inputs) {
    const changed = fingerprintMismatch(cp.inputs, check.inputs, check);
    if (changed) {
      throw new EngineError(
        'BAD_INPUT',
        `--resume: the run's inputs changed since checkpoint ${dir} was written: ${changed}. Continuing would not give what an uninterrupted run gives. ` +
          'Fix: restore them (e.g. undo the dataset edits), or start a new run with another --out.',
        { path: dir },
      );
    }
  } else log(`--resume: checkpoint ${dir} was written by an earlier version without an input fingerprint; its data, template and model are not verified`);
  checkCheckpointTensors(dir, check.expected, { params: cp.params, m: cp.optimizer.m, v: cp.optimizer.v }, cp.optimizer.step > 0, check.trained);
  // Steps after the checkpoint were lost with the process; they will run again, identically.
  const kept = await metricsUpTo(metricsPath, at, (w) => log(`warning: ${w}`));
  await trainer.setParams(cp.params);
  await trainer.setOptimizerState(cp.optimizer);
  Object.assign(loop, cp.loop);
  await writeTextSynced(metricsPath, kept.map((l) => l + '\n').join(''));
  log(`resumed from checkpoint step ${at}`);
}
