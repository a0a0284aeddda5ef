// What training says when there is nothing to do or its files are bad: resuming a finished
// run, a damaged trainer-state.json, a full disk.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../data/index.js';
import { checkpointDir, listCheckpoints } from './checkpoint.js';
import { trainRun } from './run.js';
import type { TrainSettings } from './settings.js';
import { importCsvLines, readMetrics, tempDir, trainSettings, writeTinyBert } from '../../../../test/support/train-fixture.js';

let root: string;
let model: string;
let pairs: string;

beforeAll(async () => {
  root = await tempDir('es-train-msg-');
  model = await writeTinyBert(join(root, 'model'), { hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 5 });
  pairs = await importCsvLines(root, 'pairs', ['anchor,positive', ...Array.from({ length: 8 }, (_, i) => `question ${i},answer number ${i}`)]);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const settings = (o: Partial<TrainSettings> = {}): TrainSettings => trainSettings({ model, data: pairs, batchSize: 4, maxLength: 16, maxSteps: 2, ...o });

describe('training messages', () => {
  it('--resume of a finished run says so and reports the loss it ended with', async () => {
    const run = join(root, 'finished');
    const first = await trainRun(settings(), run);
    const logs: string[] = [];
    const again = await trainRun(settings(), run, { resume: true, log: (s) => logs.push(s) });
    expect(again.alreadyFinished).toBe(true);
    const last = (await readMetrics(run)).at(-1)!;
    expect(again.finalLoss).toBe(last.loss);
    expect(again.finalLoss).toBe(first.finalLoss);
    expect(logs.join('\n')).toMatch(/was already finished: all 2 steps ran before this --resume, so there is nothing to resume/);
  });

  it('a damaged trainer-state.json is named with the field and the fix', async () => {
    const run = join(root, 'damaged');
    await trainRun(settings({ maxSteps: 2, checkpointEvery: 1 }), run);
    const steps = await listCheckpoints(run);
    const state = join(checkpointDir(run, steps.at(-1)!), 'trainer-state.json');
    const good = JSON.parse(await readFile(state, 'utf8')) as Record<string, unknown>;
    await writeFile(state, JSON.stringify({ ...good, step: 'two' }));
    await expect(trainRun(settings({ maxSteps: 2, checkpointEvery: 1 }), run, { resume: true })).rejects.toThrow(
      new RegExp(`${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 'step' is "two"; expected a whole number ≥ 0\\. .*Fix: delete .* to resume from the checkpoint before it`),
    );
    await writeFile(state, '{"step": 2,');
    await expect(trainRun(settings({ maxSteps: 2, checkpointEvery: 1 }), run, { resume: true })).rejects.toThrow(/trainer-state\.json is not valid JSON at line 1/);
  });
});

// A real full disk: a 256 KiB tmpfs. Needs permission to mount (root on Linux); skipped elsewhere.
const mountPoint = join(tmpdir(), `es-full-${process.pid}`);
const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mkdir', ['-p', mountPoint]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('on a full disk', () => {
  afterAll(() => {
    execFileSync('umount', [mountPoint]);
    execFileSync('rmdir', [mountPoint]);
  });

  it('train and import name the file and say the disk is full', async () => {
    const run = join(mountPoint, 'run');
    const e = (await trainRun(settings(), run).catch((err: unknown) => err)) as { code: string; message: string };
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(new RegExp(`^Could not \\w+( \\w+)* ${mountPoint}/run/\\S+ \\(ENOSPC: .*\\)\\. Fix: the disk is full`));
    await rm(run, { recursive: true, force: true });
    const big = join(root, 'big.csv');
    await writeFile(big, 'anchor,positive\n' + Array.from({ length: 5000 }, (_, i) => `query number ${i} about things,a passage that answers query ${i}`).join('\n'));
    await mkdir(join(mountPoint, 'datasets'));
    const i = (await importDataset(big, join(mountPoint, 'datasets', 'big')).catch((err: unknown) => err)) as { code: string; message: string };
    expect(i.code).toBe('IO');
    expect(i.message).toMatch(new RegExp(`^Could not write ${mountPoint}/datasets/\\.big\\.[0-9a-f]+\\.import/rows\\.jsonl \\(ENOSPC: .*\\)\\. Fix: the disk is full`));
  });
});
