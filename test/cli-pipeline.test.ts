// The pipeline as a user types it, through the compiled CLI: import → mine → eval → train →
// eval → umap → export, on a seeded tiny BERT and a small pairs file. Asserts exit codes,
// the files DESIGN §6 promises, and that bad input is exit 2 with a message naming the fix.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomBert } from '../src/main/engine/model/random-model.js';

const run = promisify(execFile);
let tmp: string;
let model: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliEnv({}, ...args);
}

async function cliEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/embedsmith.js', ...args], { env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'state'), ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const TOPICS = ['apple', 'river', 'stone', 'cloud', 'music', 'garden', 'window', 'paper', 'silver', 'engine', 'forest', 'candle'];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-pipeline-'));
  model = join(tmp, 'base');
  await writeRandomBert(model, { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 5 });
  const lines = ['question,answer,topic'];
  for (let i = 0; i < 48; i++) {
    const t = TOPICS[i % TOPICS.length];
    lines.push(`how do i use the ${t} number ${i},the ${t} manual section ${i} explains it,${t}`);
  }
  await writeFile(join(tmp, 'pairs.csv'), lines.join('\n') + '\n');
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('embedsmith pipeline commands', () => {
  it('--device auto prints no graphics-stack noise; the reason stays short, the raw text comes with --verbose; the run folder keeps its device', async () => {
    const data = join(tmp, 'data-device');
    expect((await cli('import', join(tmp, 'pairs.csv'), '--out', data, '--map', 'anchor=question,positive=answer')).code).toBe(0);
    // A Vulkan driver list that names a missing file: the loader warns and Dawn fails, on stderr.
    const noDriver = { VK_DRIVER_FILES: join(tmp, 'no-such-icd.json') };
    const e = await cliEnv(noDriver, 'eval', '--model', model, '--data', data, '--device', 'auto', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).not.toMatch(/Warning|vkCreateInstance|dawn|loader_get_json/i);
    const runDir = join(tmp, 'run-device');
    const t = await cliEnv(noDriver, 'train', '--model', model, '--data', data, '--out', runDir, '--max-steps', '1', '--batch-size', '8', '--threads', '1', '--verbose');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).not.toMatch(/^Warning/m);
    const line = t.stderr.split('\n').find((l) => l.includes('; device cpu ('))!;
    // A short reason, then (--verbose) the raw text in brackets.
    expect(line).toMatch(/webgpu: the webgpu provider did not start: [^[\]]{1,160} \[/);
    if (existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1')) {
      // With a Vulkan loader (this VM): the loader's complaint, named; onnxruntime's and the loader's own lines after it.
      expect(line).toMatch(/webgpu: the webgpu provider did not start: VK_DRIVER_FILES names a file that does not exist \(.*no-such-icd\.json\); the Vulkan loader found no driver \[/);
      expect(line).toMatch(/\[[^\]]*Failed to get a WebGPU adapter[^\]]*Found no drivers/);
    }
    expect(JSON.parse(await readFile(join(runDir, 'device.json'), 'utf8'))).toEqual({ device: 'cpu', reason: expect.stringMatching(/^auto picked cpu; /) });
  });

  it('mine and eval take --max-length and say how many texts they cut, and at what length', async () => {
    const data = join(tmp, 'data-cut');
    expect((await cli('import', join(tmp, 'pairs.csv'), '--out', data, '--map', 'anchor=question,positive=answer')).code).toBe(0);
    // Every answer ("the apple manual section 3 explains it") is 9 tokens or more with [CLS]/[SEP],
    // every question ("how do i use the apple number 3") 10: at 8 tokens all 48 of each are cut.
    const m = await cli('mine', '--model', model, '--data', data, '--out', join(tmp, 'mined-cut'), '--negatives', '1', '--rank-min', '1', '--device', 'cpu', '--max-length', '8');
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toMatch(/texts up to 8 tokens/);
    expect(m.stderr).toMatch(/embedsmith mine: 48 of 48 documents and 48 of 48 queries were longer than 8 tokens and were cut to 8; --max-length N keeps more/);
    const e = await cli('eval', '--model', model, '--data', data, '--device', 'cpu', '--max-length', '8', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/embedsmith eval: 48 of 48 documents and 48 of 48 queries were longer than 8 tokens and were cut to 8/);
    // At the model's own length (128) nothing is cut, and nothing is said.
    const own = await cli('eval', '--model', model, '--data', data, '--device', 'cpu', '--json');
    expect(own.stderr).not.toMatch(/were cut/);
  });

  it('import, mine, eval --json, train, umap and export work together', async () => {
    const data = join(tmp, 'data');
    expect((await cli('import', join(tmp, 'pairs.csv'), '--out', data, '--map', 'anchor=question,positive=answer')).code).toBe(0);
    expect((await cli('dataset', 'split', data, '--eval', '0.25', '--seed', '1')).code).toBe(0);

    const mined = join(tmp, 'mined');
    const m = await cli('mine', '--model', model, '--data', data, '--out', mined, '--negatives', '2', '--rank-min', '1', '--rank-max', '20', '--device', 'cpu', '--json');
    expect(m.code, m.stderr).toBe(0);
    const report = JSON.parse(m.stdout) as { counts: { mined: number } };
    expect(report.counts.mined).toBeGreaterThan(0);
    const rows = (await readFile(join(mined, 'rows.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { negatives?: string[]; negativeScores?: number[]; negativeRanks?: number[] });
    expect(rows).toHaveLength(48);
    const withNeg = rows.find((r) => (r.negatives?.length ?? 0) > 0)!;
    expect(withNeg.negativeScores).toHaveLength(withNeg.negatives!.length);
    expect(withNeg.negativeRanks!.every((r) => r >= 2 && r <= 20)).toBe(true);

    const e = await cli('eval', '--model', model, '--data', data, '--json', '--device', 'cpu');
    expect(e.code, e.stderr).toBe(0);
    const before = JSON.parse(e.stdout) as Record<string, number>;
    for (const k of ['ndcg@10', 'mrr@10', 'map@100', 'recall@1', 'recall@5', 'recall@10', 'recall@100']) expect(before[k], k).toBeTypeOf('number');

    const runDir = join(tmp, 'run');
    const t = await cli('train', '--model', model, '--data', data, '--out', runDir, '--epochs', '3', '--batch-size', '8', '--lr', '1e-3',
      '--max-length', '32', '--device', 'cpu', '--eval', data, '--eval-every', '6', '--threads', '1');
    expect(t.code, t.stderr).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'model/model.safetensors', 'model/config_sentence_transformers.json', 'general-eval.json']) expect(existsSync(join(runDir, f)), f).toBe(true);
    // The forgetting guard ran: the general set before and after, in the output and the run folder.
    expect(t.stdout).toMatch(/general set \(WordNet usage examples → definitions \(400 pairs\)\): nDCG@10 \d\.\d{4} → \d\.\d{4}/);
    const general = JSON.parse(await readFile(join(runDir, 'general-eval.json'), 'utf8')) as { queries: number; before: Record<string, number>; after: Record<string, number> };
    expect(general.queries).toBe(400);
    expect(general.after['ndcg@10']).not.toBe(general.before['ndcg@10']);
    const metrics = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; eval?: Record<string, number> });
    expect(metrics.filter((x) => x.eval).map((x) => x.step)).toEqual([6, 12, 15]); // 36 train rows / 8 = 5 steps × 3 epochs
    const after = JSON.parse((await cli('eval', '--model', join(runDir, 'model'), '--data', data, '--json', '--device', 'cpu')).stdout) as Record<string, number>;
    // The final in-training evaluation and `eval` on the saved model see the same numbers.
    expect(metrics[metrics.length - 1].eval!['ndcg@10']).toBeCloseTo(after['ndcg@10'], 5);

    const png = join(tmp, 'u.png');
    const u = await cli('umap', '--model', model, '--data', data, '--out', join(tmp, 'u.json'), '--device', 'cpu', '--epochs', '50');
    expect(u.code, u.stderr).toBe(0);
    const j = JSON.parse(await readFile(join(tmp, 'u.json'), 'utf8')) as { schemaVersion: number; points: number[][]; labels: string[]; texts: string[]; neighbours: { k: number; indices: string } };
    expect(j.points).toHaveLength(96);
    expect(j.texts).toHaveLength(96);
    expect(j.schemaVersion).toBe(2);
    expect(j.neighbours.k).toBe(10);
    expect(Buffer.from(j.neighbours.indices, 'base64')).toHaveLength(96 * 10 * 4);
    const u2 = await cli('umap', '--model', join(runDir, 'model'), '--data', data, '--out', png, '--device', 'cpu', '--epochs', '50', '--align', join(tmp, 'u.json'));
    expect(u2.code, u2.stderr).toBe(0);
    expect((await readFile(png)).subarray(1, 4).toString()).toBe('PNG');

    const x = await cli('export', '--model', runDir, '--out', join(tmp, 'export'));
    expect(x.code, x.stderr).toBe(0);
    expect(existsSync(join(tmp, 'export', 'onnx', 'model.onnx'))).toBe(true);
  });

  it('bad settings are exit 2 with the setting named', async () => {
    const data = join(tmp, 'data');
    const r = await cli('train', '--model', model, '--data', data, '--out', join(tmp, 'bad'), '--lr', 'fast');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lr must be a number/);
    const m = await cli('mine', '--model', model, '--data', data, '--out', join(tmp, 'bad2'), '--rank-min', '50', '--rank-max', '10', '--device', 'cpu');
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/rank/);
    const e = await cli('eval', '--model', join(tmp, 'nope'), '--data', data);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/config\.json/);
    const resume = await cli('train', '--model', model, '--data', data, '--out', join(tmp, 'fresh'), '--resume');
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/no run to continue/);
  });
});
