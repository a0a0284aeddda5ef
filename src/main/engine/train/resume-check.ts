// What `--resume` verifies before it continues (issue 14 item 10): a checkpoint missing one
// tensor used to resume and save a model the loader then refused; rows deleted between a kill
// and --resume were taken silently, and the result was no longer what an uninterrupted run
// gives. So every checkpoint carries a fingerprint of the run's inputs, and on resume the
// tensors are checked name by name and the fingerprint part by part, naming what changed.
// metrics.jsonl is read forgivingly at its end only: a full disk tears the last line.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';
import type { Example } from './examples.js';
import { resumeMismatch, type TrainSettings } from './settings.js';

/** sha256 (hex) of each input that decides a step's numbers; `examples` counts for the message. */
export interface InputFingerprint {
  /** The training examples as the run read them: rows, edits and split.json applied. */
  data: string;
  examples: number;
  /** The instruction templates. */
  template: string;
  /**
   * The settings --resume must match (train/settings.ts RESUME_KEYS), as values rather than a
   * hash: compared by resumeMismatch, which names the setting and reads one a later version
   * added at its default.
   */
  settings: Partial<TrainSettings>;
  /** The base model's weights. */
  model: string;
}

const sha = () => createHash('sha256');

export function inputFingerprint(i: { examples: readonly Example[]; template: unknown; settings: Partial<TrainSettings>; params: ReadonlyMap<string, Float32Array> }): InputFingerprint {
  const data = sha();
  for (const e of i.examples) data.update(JSON.stringify([e.query, e.positive, e.negatives, e.label ?? null, e.score ?? null]) + '\n');
  const model = sha();
  for (const k of [...i.params.keys()].sort()) {
    const a = i.params.get(k)!;
    model.update(k).update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return {
    data: data.digest('hex'),
    examples: i.examples.length,
    template: sha().update(JSON.stringify(i.template)).digest('hex'),
    settings: i.settings,
    model: model.digest('hex'),
  };
}

/** Why the inputs now differ from those the checkpoint was made with, or null when they match. */
export function fingerprintMismatch(saved: InputFingerprint, now: InputFingerprint, where: { data: string; model: string }): string | null {
  const changed: string[] = [];
  if (saved.data !== now.data) {
    changed.push(
      `the training data in ${where.data} (${saved.examples} examples when the checkpoint was written, ${now.examples} now: rows, edits or split.json changed)`,
    );
  }
  if (saved.template !== now.template) changed.push('the instruction template');
  const setting = resumeMismatch(saved.settings as TrainSettings, now.settings as TrainSettings);
  if (setting) changed.push(`a setting (${setting})`);
  if (saved.model !== now.model) changed.push(`the base model's weights in ${where.model}`);
  return changed.length ? changed.join('; ') : null;
}

/**
 * Every tensor the trainer expects is in the checkpoint with its element count (checkpoints
 * store flat [n] tensors), and nothing else is: params, and both AdamW moments.
 */
export function checkCheckpointTensors(
  dir: string,
  expected: ReadonlyMap<string, readonly number[]>,
  found: { params: ReadonlyMap<string, Float32Array>; m: ReadonlyMap<string, Float32Array>; v: ReadonlyMap<string, Float32Array> },
  optimizerStarted: boolean,
  /** Keys AdamW trains (LoRA: the adapters alone); moments are expected for these only. Absent: every expected key. */
  trained?: ReadonlySet<string>,
): void {
  const fix = `Fix: delete ${dir} to resume from an earlier checkpoint, or start the run again without --resume.`;
  const sets: [string, ReadonlyMap<string, Float32Array>][] = [['params.safetensors', found.params]];
  // Before the first step the moments are zeros and may be absent; after it they must all be there.
  if (optimizerStarted) sets.push(['optimizer.safetensors (m.)', found.m], ['optimizer.safetensors (v.)', found.v]);
  const momentKeys = trained ? new Map([...expected].filter(([k]) => trained.has(k))) : expected;
  for (const [file, got] of sets) {
    const want = file === 'params.safetensors' ? expected : momentKeys;
    for (const [name, shape] of want) {
      const t = got.get(name);
      const n = shape.reduce((a, b) => a * b, 1);
      if (!t) throw new EngineError('SCHEMA', `--resume: checkpoint ${dir} lacks the tensor '${name}' (shape [${shape.join(', ')}]) in ${file}. ${fix}`, { path: dir, tensor: name });
      if (t.length !== n) {
        throw new EngineError('SCHEMA', `--resume: checkpoint ${dir} holds '${name}' with ${t.length} values in ${file}; the model's shape [${shape.join(', ')}] has ${n}. ${fix}`, { path: dir, tensor: name });
      }
    }
    const extra = [...got.keys()].filter((k) => !want.has(k));
    if (extra.length) {
      throw new EngineError('SCHEMA', `--resume: checkpoint ${dir} holds tensors this model does not have (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}) in ${file}. ${fix}`, { path: dir, tensor: extra[0] });
    }
  }
}

/**
 * metrics.jsonl's lines (as text) up to `step`. A torn last line (a full disk or a kill while
 * it was appended) is dropped with a warning naming the file; damage before it is not guessed
 * past: SCHEMA naming the line.
 */
export async function metricsUpTo(path: string, step: number, warn: (line: string) => void): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let rec: { step?: unknown } | null = null;
    try {
      rec = JSON.parse(lines[i]) as { step?: unknown };
    } catch {
      rec = null;
    }
    if (rec === null || typeof rec !== 'object' || typeof rec.step !== 'number') {
      if (i === lines.length - 1) {
        warn(`${path} line ${i + 1}: a torn last line (the disk filled or the process was killed while it was written) was dropped; that step runs again.`);
        break;
      }
      throw new EngineError('SCHEMA', `${path} line ${i + 1} is not a metrics record. Fix: delete that line and the ones after it (those steps run again on --resume), or restore the file.`, { file: path, line: i + 1 });
    }
    if (rec.step <= step) kept.push(lines[i]);
  }
  return kept;
}
