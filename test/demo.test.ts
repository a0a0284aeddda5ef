// README's quick start: `npx embedsmith demo` runs the whole pipeline on the bundled demo on
// the CPU and nDCG@10 on the held-out queries rises (the command exits 1 if it does not).
// ~80 s on 2 cores: the one slow test, kept because it is the product's main promise.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let tmp = '';
afterAll(() => (tmp ? rm(tmp, { recursive: true, force: true }) : undefined));

describe('embedsmith demo', () => {
  it('imports, mines, trains, evaluates and exports; nDCG@10 rises', { timeout: 600_000 }, async () => {
    tmp = await mkdtemp(join(tmpdir(), 'embedsmith-demo-'));
    const ws = join(tmp, 'ws');
    const r = await run(process.execPath, ['bin/embedsmith.js', 'demo', '--workspace', ws, '--device', 'cpu'], { env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'state') } });
    const row = /ndcg@10\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout);
    expect(row, r.stdout).not.toBeNull();
    expect(Number(row![2])).toBeGreaterThan(Number(row![1]));
    for (const f of ['project.json', 'datasets/web-features/rows.jsonl', 'datasets/web-features-mined/mining-report.json', 'runs/demo/metrics.jsonl', 'export/onnx/model.onnx', 'export/model.safetensors']) {
      expect(existsSync(join(ws, f)), f).toBe(true);
    }
    const config = JSON.parse(await readFile(join(ws, 'runs/demo/config.json'), 'utf8')) as { device: string; maxLength: number; lr: number };
    expect(config.device).toBe('cpu');
    // The base model's own length and the rate for its width (issue 15 §1–2), not 128 and 2e-5.
    expect([config.maxLength, config.lr]).toEqual([32, 2e-3]);
    // The exported folder carries the run's model card, whose before/after are the demo's own numbers.
    const card = await readFile(join(ws, 'export/README.md'), 'utf8');
    expect(card).toContain(`| ndcg@10 | ${row![1]} | ${row![2]} |`);
    expect(r.stdout).toMatch(/training steps on cpu \(cpu was asked for/);
    // The app lists it among its recent projects (what `npm start` opens from).
    const recent = JSON.parse(await readFile(join(tmp, 'state', 'recent.json'), 'utf8')) as unknown;
    expect(JSON.stringify(recent)).toContain(JSON.stringify(ws).slice(1, -1));
    // Running it again over its own workspace is allowed (and starts over).
    const again = await run(process.execPath, ['bin/embedsmith.js', 'demo', '--workspace', ws, '--device', 'cpu', '--epochs', '1'], { env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'state') } }).catch((e: { code: number; stdout: string }) => e);
    expect('stdout' in again && /ndcg@10/.test(again.stdout)).toBe(true);
  });
});
