// --resume verifies what it resumes (issue 14 item 10): the checkpoint's tensors, the inputs
// it was made from, and a metrics.jsonl whose last line a full disk tore.
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEdit, undoLastEdit } from '../data/edits.js';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from '../model/safetensors.js';
import { checkpointDir, listCheckpoints } from './checkpoint.js';
import { fingerprintMismatch, inputFingerprint, metricsUpTo } from './resume-check.js';
import { type StepRecord, trainRun } from './run.js';
import { type TrainSettings, resumeSettings } from './settings.js';
import { readMetrics, trainSettings, wordPairsWorkspace } from '../../../../test/support/train-fixture.js';

let root: string, model: string, pairs: string;
let full: StepRecord[];
let fullModel: Buffer;

const settings = (o: Partial<TrainSettings> = {}): TrainSettings =>
  trainSettings({ model, data: pairs, batchSize: 4, lr: 1e-3, maxLength: 32, maxSteps: 7, checkpointEvery: 2, dropout: 0.1, warmup: 0.2, ...o });
const metrics = readMetrics;
const strip = (m: StepRecord[]) => m.map(({ pairsPerSec: _, ...rest }) => rest);

/** A run stopped after step 5 (the stop writes checkpoint step-5). */
async function stopped(name: string): Promise<string> {
  const run = join(root, name);
  const ctl = new AbortController();
  const r = await trainRun(settings(), run, { signal: ctl.signal, onProgress: (p) => p.step === 5 && ctl.abort() });
  expect(r.cancelled).toBe(true);
  return run;
}

beforeAll(async () => {
  ({ root, model, pairs } = await wordPairsWorkspace('es-resume-'));
  const run = join(root, 'full');
  await trainRun(settings(), run);
  full = await metrics(run);
  fullModel = await readFile(join(run, 'model', 'model.safetensors'));
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('--resume verifies its checkpoint', () => {
  it('a checkpoint missing one tensor is refused, naming the tensor and its shape', async () => {
    const run = await stopped('missing-tensor');
    expect(await listCheckpoints(run)).toEqual([4, 5]);
    const file = join(checkpointDir(run, 5), 'params.safetensors');
    const { tensors } = parseSafetensors(await readFile(file));
    const gone = 'encoder.layer.1.output.dense.weight';
    expect(tensors.has(gone)).toBe(true);
    const kept = [...tensors].filter(([k]) => k !== gone).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.bytes }] as [string, TensorToWrite]);
    await writeFile(file, writeSafetensors(kept));
    await expect(trainRun(settings(), run, { resume: true })).rejects.toMatchObject({
      code: 'SCHEMA',
      message: expect.stringContaining(`checkpoint ${checkpointDir(run, 5)} lacks the tensor '${gone}' (shape [32, 64]) in params.safetensors`),
    });
  }, 60_000);

  it('rows edited between the stop and --resume are named; undone, the run resumes bit-exactly', async () => {
    const run = await stopped('edited');
    await applyEdit(pairs, { op: 'delete', index: 3 });
    try {
      await expect(trainRun(settings(), run, { resume: true })).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: expect.stringContaining(`the training data in ${pairs} (16 examples when the checkpoint was written, 15 now: rows, edits or split.json changed)`),
      });
    } finally {
      await undoLastEdit(pairs);
    }
    const r = await trainRun(settings(), run, { resume: true });
    expect(r.steps).toBe(7);
    expect(strip(await metrics(run))).toEqual(strip(full));
    expect(Buffer.compare(await readFile(join(run, 'model', 'model.safetensors')), fullModel)).toBe(0);
  }, 60_000);

  it('a torn last line of metrics.jsonl is dropped with a warning naming the file, and the run still ends bit-exact', async () => {
    const run = await stopped('torn');
    const path = join(run, 'metrics.jsonl');
    await appendFile(path, '{"step":6,"epoch":1,"loss":1.23');
    const lines: string[] = [];
    await trainRun(settings(), run, { resume: true, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(new RegExp(`warning: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line 6: a torn last line .* was dropped`));
    expect(strip(await metrics(run))).toEqual(strip(full));
    expect(Buffer.compare(await readFile(join(run, 'model', 'model.safetensors')), fullModel)).toBe(0);
  }, 60_000);
});

describe('metricsUpTo', () => {
  it('keeps lines up to the step, drops a torn tail, refuses damage before it naming the line', async () => {
    const path = join(root, 'm.jsonl');
    await writeFile(path, '{"step":1}\n{"step":2}\n{"step":3}\n{"st');
    const warnings: string[] = [];
    expect(await metricsUpTo(path, 2, (w) => warnings.push(w))).toEqual(['{"step":1}', '{"step":2}']);
    expect(warnings).toEqual([`${path} line 4: a torn last line (the disk filled or the process was killed while it was written) was dropped; that step runs again.`]);
    await writeFile(path, '{"step":1}\ngarbage\n{"step":3}\n');
    await expect(metricsUpTo(path, 3, () => {})).rejects.toMatchObject({ code: 'SCHEMA', message: expect.stringContaining(`${path} line 2 is not a metrics record`) });
    expect(await metricsUpTo(join(root, 'absent.jsonl'), 3, () => {})).toEqual([]);
  });
});

describe('fingerprintMismatch', () => {
  it('names each input that changed, and the setting by name', () => {
    const ex = [{ line: 2, query: 'q', positive: 'p', negatives: [] }];
    const params = new Map([['w', new Float32Array([1, 2])]]);
    const base = inputFingerprint({ examples: ex, template: { query: '', document: '' }, settings: resumeSettings(settings()), params });
    const where = { data: '/d', model: '/m' };
    expect(fingerprintMismatch(base, inputFingerprint({ examples: ex, template: { query: '', document: '' }, settings: resumeSettings(settings()), params }), where)).toBeNull();
    const changed = inputFingerprint({
      examples: [...ex, { line: 3, query: 'q2', positive: 'p2', negatives: [] }],
      template: { query: 'query: ', document: '' },
      settings: resumeSettings(settings({ lr: 5e-4 })),
      params: new Map([['w', new Float32Array([1, 3])]]),
    });
    expect(fingerprintMismatch(base, changed, where)).toBe(
      'the training data in /d (1 examples when the checkpoint was written, 2 now: rows, edits or split.json changed); the instruction template; ' +
        "a setting (lr was 0.001, now 0.0005); the base model's weights in /m",
    );
  });
});
