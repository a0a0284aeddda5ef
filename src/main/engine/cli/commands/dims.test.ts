// Matryoshka truncation as a user meets it: `embed --dims N` returns unit vectors of width N
// that are the model's full embeddings cut to N and re-normalised; `export --dims N` writes
// sentence-transformers' truncate_dim, which our own loader then honours by default; `eval
// --dims` scores at that width; a width the model does not have is exit 2 with the range.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../data/index.js';
import { decodeNpy } from '../../model/npy.js';
import { writeRandomBert } from '../../model/random-model.js';
import { embedCommand } from './embed.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { runCommand } from '../../../../../test/support/cli-run.js';

let tmp: string, model: string, input: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-dims-'));
  model = join(tmp, 'model');
  await writeRandomBert(model, { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', seed: 5, hidden: 32, layers: 1, heads: 2, intermediate: 32 });
  input = join(tmp, 'in.txt');
  await writeFile(input, 'the first text\nanother one, longer than the first\nthird\n');
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const run = runCommand;
async function npy(path: string) {
  return decodeNpy(new Uint8Array(await readFile(path)));
}

describe('--dims', () => {
  it('embed --dims 8 gives unit rows of width 8 equal to the full rows cut and re-normalised', async () => {
    expect((await run(embedCommand, '--model', model, '--input', input, '--out', join(tmp, 'full.npy'), '--device', 'cpu')).code).toBe(0);
    const r = await run(embedCommand, '--model', model, '--input', input, '--out', join(tmp, 'd8.npy'), '--device', 'cpu', '--dims', '8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[3 × 8\]/);
    const full = await npy(join(tmp, 'full.npy'));
    const cut = await npy(join(tmp, 'd8.npy'));
    expect(full.shape).toEqual([3, 32]);
    expect(cut.shape).toEqual([3, 8]);
    for (let i = 0; i < 3; i++) {
      const prefix = Array.from(full.data.subarray(i * 32, i * 32 + 8));
      const norm = Math.hypot(...prefix);
      const row = Array.from(cut.data.subarray(i * 8, (i + 1) * 8));
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
      // The prefix of a unit vector is shorter than 1: re-normalising is not a no-op.
      expect(norm).toBeLessThan(0.99);
      row.forEach((x, k) => expect(x).toBeCloseTo(prefix[k]! / norm, 5));
    }
  });

  it('export --dims 8 writes truncate_dim; the exported folder embeds at 8 by default', async () => {
    const out = join(tmp, 'exported');
    const r = await run(exportCommand, '--model', model, '--out', out, '--format', 'sentence-transformers', '--dims', '8');
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(await readFile(join(out, 'config_sentence_transformers.json'), 'utf8'));
    expect(st.truncate_dim).toBe(8);
    const e = await run(embedCommand, '--model', out, '--input', input, '--out', join(tmp, 'ex.npy'), '--device', 'cpu');
    expect(e.code, e.stderr).toBe(0);
    const [a, b] = [await npy(join(tmp, 'ex.npy')), await npy(join(tmp, 'd8.npy'))];
    expect(a.shape).toEqual([3, 8]);
    a.data.forEach((x, i) => expect(x).toBeCloseTo(b.data[i]!, 6));
    // A plain export writes no truncate_dim.
    expect((await run(exportCommand, '--model', model, '--out', join(tmp, 'plain'), '--format', 'sentence-transformers')).code).toBe(0);
    expect(JSON.parse(await readFile(join(tmp, 'plain', 'config_sentence_transformers.json'), 'utf8'))).not.toHaveProperty('truncate_dim');
  });

  it('eval --dims scores at that width; widths the model lacks are exit 2 naming the range', async () => {
    await writeFile(join(tmp, 'p.csv'), 'anchor,positive\nred apple,a fruit that is red\nblue sky,the colour above us\ngreen grass,lawn plants\nfast car,a quick vehicle\n');
    await importDataset(join(tmp, 'p.csv'), join(tmp, 'ds'));
    const r = await run(evalCommand, '--model', model, '--data', join(tmp, 'ds'), '--device', 'cpu', '--dims', '4');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/at 4 of 32 dimensions/);
    for (const bad of ['33', '0']) {
      const e = await run(embedCommand, '--model', model, '--input', input, '--out', join(tmp, 'bad.npy'), '--device', 'cpu', '--dims', bad);
      expect(e.code).toBe(2);
      expect(e.stderr).toMatch(bad === '0' ? /--dims must be a positive integer/ : /--dims 33: the model .* has 32 dimensions; give an integer from 1 to 32/);
    }
  });
});
