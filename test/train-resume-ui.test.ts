// The Training page's Resume button on a run the command line started with settings the form
// does not show (issue 16: a UI resume of a `--loss supcon` run was refused, "loss was
// "supcon", now "auto""): the request it builds from config.json (renderer pages/training/training.ts)
// goes through the engine's train job, which accepts it and ends where the uninterrupted run ends.
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainSettingsFromArgs } from '../src/main/engine/cli/commands/train.js';
import { importDataset } from '../src/main/engine/data/index.js';
import { trainJob } from '../src/main/engine/host/compute-jobs.js';
import { readRun } from '../src/main/engine/host/read-service.js';
import { writeRandomBert } from '../src/main/engine/model/random-model.js';
import { trainRun } from '../src/main/engine/train/run.js';
import { resumeRequest } from '../src/renderer/src/pages/training/training.js';

const TOK = join(import.meta.dirname, 'fixtures/models/bert-wordpiece-uncased');
const WORDS = 'apple river stone cloud music garden window paper silver engine forest candle'.split(' ');
let root: string, model: string, data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-ui-resume-'));
  model = join(root, 'model');
  await writeRandomBert(model, { tokenizerDir: TOK, hidden: 32, layers: 1, heads: 2, intermediate: 64, seed: 4 });
  const lines = ['text,label', ...WORDS.flatMap((w, i) => [`${w} one`, `${w} two`].map((t) => `${t},g${i % 3}`))];
  await writeFile(join(root, 'labeled.csv'), lines.join('\n') + '\n');
  data = join(root, 'labeled');
  await importDataset(join(root, 'labeled.csv'), data);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const losses = async (run: string) => (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { loss: number }).loss);

describe("the Training page's requests to the train job", () => {
  it('accepts a --loss supcon run with settings only the command line sets, and ends as the uninterrupted run', { timeout: 120_000 }, async () => {
    // Settings the form never shows: each is compared on resume.
    const flags = ['--model', model, '--data', data, '--loss', 'supcon', '--temperature', '0.07', '--max-grad-norm', 'Infinity', '--keep-checkpoints', '3',
      '--batch-size', '6', '--max-steps', '6', '--checkpoint-every', '2', '--lr', '1e-3', '--max-length', '16', '--device', 'cpu', '--no-shuffle', '--dropout', '0'];
    const full = await trainSettingsFromArgs([...flags, '--out', join(root, 'full')]);
    await trainRun(full.settings, join(root, 'full'));
    const cut = await trainSettingsFromArgs([...flags, '--out', join(root, 'cut')]);
    const ctl = new AbortController();
    const first = await trainRun(cut.settings, join(root, 'cut'), { signal: ctl.signal, onProgress: (p) => p.step === 3 && ctl.abort() });
    expect([first.cancelled, first.steps]).toEqual([true, 3]);

    const request = resumeRequest(await readRun(join(root, 'cut')));
    expect(request.settings).toMatchObject({ loss: 'supcon', temperature: 0.07, maxGradNorm: Infinity, keepCheckpoints: 3, shuffle: false });
    const done = await trainJob({ ...request, generalEval: false }, { jobId: 'j', signal: new AbortController().signal, progress: () => {} });
    expect([done.steps, done.totalSteps]).toEqual([6, 6]);
    // Bit-exact with the run that was never stopped: the same settings really were repeated.
    expect(await losses(join(root, 'cut'))).toEqual(await losses(join(root, 'full')));
  });

  it('a request naming a setting the table does not have is refused, naming it, before anything runs', async () => {
    const request = { model, dataset: data, out: join(root, 'typo'), settings: { lr: 1e-3, learningRate: 1e-3 } as never };
    await expect(trainJob(request, { jobId: 'j', signal: new AbortController().signal, progress: () => {} })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/^training has no setting 'learningRate'; the settings are eval, epochs, .*lr.*Fix: drop or rename it\.$/),
    });
  });
});
