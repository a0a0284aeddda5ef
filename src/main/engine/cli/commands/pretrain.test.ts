// `embedsmith pretrain` as a user runs it: its own flags split from train's, the defaults it
// changes (batch 64), usage errors with exit code 2, and one tiny run through to the summary.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTinyBert } from '../../../../../test/support/train-fixture.js';
import type { PretrainReport } from '../../train/pretrain/pretrain.js';
import { pretrainCommand, pretrainSettingsFromArgs } from './pretrain.js';
import { runCommand } from '../../../../../test/support/cli-run.js';
import { withTempDir } from '../../../../../test/support/temp-dir.js';

let tmp: string, model: string, docs: string;
withTempDir('embedsmith-cli-pretrain-', (d) => (tmp = d));
beforeAll(async () => {
  model = await writeTinyBert(join(tmp, 'model'), { layers: 1, seed: 9 });
  docs = join(tmp, 'docs.jsonl');
  const topics = ['harbour cranes', 'violin strings', 'desert roads', 'glass bottles'];
  await writeFile(docs, topics.map((t) => JSON.stringify({ title: `Notes on ${t}`, text: `What ${t} are used for.\n\nHow ${t} are made and kept.` })).join('\n'));
});

const run = (...args: string[]) => runCommand(pretrainCommand, ...args);

describe('embedsmith pretrain', () => {
  it('splits its own flags from train’s and defaults the batch to 64', async () => {
    const { settings, resume, out } = await pretrainSettingsFromArgs(['--model', model, '--input', docs, '--out', 'R', '--pairs=title-body,adjacent-sentences', '--keep', '0.3', '--top-k=5', '--lr', '1e-4', '--seed', '7', '--resume']);
    expect([out, resume, settings.input, settings.keep, settings.topK]).toEqual(['R', true, docs, 0.3, 5]);
    expect(settings.pairs).toEqual({ kinds: ['title-body', 'adjacent-sentences'], minChars: 10, maxChars: 1000, maxPairsPerDoc: 32, seed: 7 });
    expect([settings.train.batchSize, settings.train.lr, settings.train.model]).toEqual([64, 1e-4, model]);
    const b = await pretrainSettingsFromArgs(['--model', model, '--input', docs, '--out', 'R', '--batch-size', '16']);
    // Without --lr, the rate follows the model's width (32 wide: 2e-3), not BERT-base's 2e-5 (issue 15 §2).
    expect(b.settings.train.lr).toBe(2e-3);
    expect(b.settings.train.batchSize).toBe(16);
  });

  it('usage errors exit 2 and name the flag', async () => {
    expect(await run('--model', model, '--out', 'R')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--model, --input and --out are required/) });
    expect(await run('--model', model, '--input', docs, '--out', 'R', '--data', 'D')).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a dataset with --data/) });
    expect(await run('--model', model, '--input', docs, '--out', 'R', '--pairs', 'title-body,sections')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--pairs: 'sections' is not a pair kind/) });
    expect(await run('--model', model, '--input', docs, '--out', join(tmp, 'bad'), '--keep', '2', '--device', 'cpu')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--keep 2 must be a fraction in \(0, 1\]/) });
  });

  it('runs both stages and prints the summary', async () => {
    const out = join(tmp, 'run');
    const r = await run('--model', model, '--input', docs, '--out', out, '--max-steps', '2', '--batch-size', '4', '--top-k', '100', '--device', 'cpu', '--threads', '1', '--max-length', '32', '--lr', '1e-3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pretrained: 8 weak pairs → stage 1 \(2 steps, final loss [\d.]+\); 8 ranked within the top 100, 4 kept \(50\.0%\) → stage 2 \(2 steps/);
    const report = JSON.parse(await readFile(join(out, 'pretrain.json'), 'utf8')) as PretrainReport;
    expect(report.settings.train.batchSize).toBe(4);
    expect(r.stderr).toMatch(/stage 2 step 2\/2 loss/);
  });
});
