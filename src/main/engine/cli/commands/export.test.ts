// `embedsmith export --format recipe`: exit codes and what it prints (the recipe's contents are
// train/recipe.test.ts's).
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../data/index.js';
import { writeRandomBert } from '../../model/random-model.js';
import { TRAIN_DEFAULTS } from '../../train/settings.js';
import { exportCommand } from './export.js';
import { sink } from '../../../../../test/support/cli-run.js';

let tmp: string, run: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-export-'));
  await writeFile(join(tmp, 'p.csv'), 'anchor,positive\nq0,p0\nq1,p1\nq2,p2\n');
  await importDataset(join(tmp, 'p.csv'), join(tmp, 'ds'));
  // export reads only the run's config.json.
  run = join(tmp, 'run');
  await mkdir(run);
  await writeFile(join(run, 'config.json'), JSON.stringify({ ...TRAIN_DEFAULTS, model: join(tmp, 'base'), data: join(tmp, 'ds'), threads: 1, template: { query: '', document: '' } }));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('embedsmith export --format recipe', () => {
  it('writes the recipe folder and says how to run it', async () => {
    const s = sink();
    expect(await exportCommand(['--model', run, '--out', join(tmp, 'r'), '--format', 'recipe'], s.out)).toBe(0);
    expect(s.logs[0]).toBe(`recipe: ${join(tmp, 'r')} (train.jsonl, train.py, requirements.txt, recipe.json, README.md): 3 training rows`);
    expect(s.logs[1]).toContain('accelerate launch train.py');
    expect((await readdir(join(tmp, 'r'))).sort()).toEqual(['README.md', 'recipe.json', 'requirements.txt', 'train.jsonl', 'train.py']);
  });

  it.each([
    [['--format', 'recipe,onnx'], 2, /--format recipe stands alone \(got recipe,onnx\)/],
    [['--format', 'recipes'], 2, /unknown format\(s\) recipes; choose from sentence-transformers, onnx, fp16, recipe/],
  ])('%j is a usage error', async (extra, code, message) => {
    const s = sink();
    expect(await exportCommand(['--model', run, '--out', join(tmp, 'x'), ...extra], s.out)).toBe(code);
    expect(s.errors.join('\n')).toMatch(message);
  });

  it('a model folder, a folder without config.json or a used --out is exit 2 with the fix', async () => {
    await mkdir(join(tmp, 'model'));
    await writeFile(join(tmp, 'model', 'config.json'), '{"model_type": "bert"}');
    const cases: [string, string, RegExp][] = [
      [join(tmp, 'model'), join(tmp, 'o1'), /is a model's config, not a training run's\. Fix: --format recipe needs the RUN_DIR/],
      [join(tmp, 'ds'), join(tmp, 'o2'), /has no config\.json\. Fix: give --model the RUN_DIR/],
      [run, join(tmp, 'model'), /already exists and is not empty; choose a new --out folder for the recipe/],
    ];
    for (const [model, out, message] of cases) {
      const s = sink();
      expect(await exportCommand(['--model', model, '--out', out, '--format', 'recipe'], s.out)).toBe(2);
      expect(s.errors.join('\n')).toMatch(message);
    }
  });
});

describe('embedsmith export: the model card', () => {
  it("carries the model's own README.md, or writes one that names the source", async () => {
    const base = join(tmp, 'bare');
    await writeRandomBert(base, { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 2, maxSeqLength: 32 });
    const s = sink();
    expect(await exportCommand(['--model', base, '--out', join(tmp, 'x1'), '--format', 'sentence-transformers'], s.out)).toBe(0);
    const made = await readFile(join(tmp, 'x1', 'README.md'), 'utf8');
    expect(made).toContain(`Exported by Embedsmith from \`${base}\`, weights unchanged`);
    expect(made).toContain('- max sequence length: 32');
    // A trained model's folder (or a hub model's) has its card: the export keeps it word for word.
    const card = '---\nlicense: apache-2.0\n---\n\n# tuned\n\nTrained on tickets.\n';
    await writeFile(join(base, 'README.md'), card);
    expect(await exportCommand(['--model', base, '--out', join(tmp, 'x2'), '--format', 'sentence-transformers,onnx'], sink().out)).toBe(0);
    expect(await readFile(join(tmp, 'x2', 'README.md'), 'utf8')).toBe(card);
  });
});
