// `embedsmith embed` and `embedsmith export` as a user runs them (the command functions,
// with captured output): every input format, both output formats, and the error paths
// with their exit codes and the file / line / column they name.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embed } from '../../model/embed.js';
import { loadModelFolder } from '../../model/load.js';
import { decodeNpy } from '../../model/npy.js';
import { openModel } from '../../model/open-model.js';
import { writeRandomBert } from '../../model/random-model.js';
import { paramSpecs, specFromHfConfig } from '../../nn/index.js';
import { embedCommand } from './embed.js';
import { exportCommand } from './export.js';
import { cosine as cos } from '../../../../../test/support/measure.js';
import { runCommand } from '../../../../../test/support/cli-run.js';

let tmp: string;
let model: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-cli-embed-'));
  model = join(tmp, 'model');
  await writeRandomBert(model, { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', seed: 3, prompts: { query: 'query: ' } });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const run = runCommand;
const file = async (name: string, text: string) => (await writeFile(join(tmp, name), text), join(tmp, name));
describe('embedsmith embed', () => {
  it('.txt → .jsonl: one object per line in input order, the engine’s embeddings; --role applies the prompt', async () => {
    const texts = ['first line', '', 'a much longer third line with several words in it', 'fourth'];
    const input = await file('in.txt', texts.join('\r\n') + '\n');
    const out = join(tmp, 'out.jsonl');
    const r = await run(embedCommand, '--model', model, '--input', input, '--out', out, '--device', 'cpu', '--batch-size', '2', '--role', 'query');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 4 embeddings \[4 × 32\]/);
    expect(r.stderr).toMatch(/1 empty line/);
    const rows = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.index, x.text])).toEqual(texts.map((t, i) => [i, t]));
    const m = await openModel(model, { device: 'cpu' });
    try {
      const want = await embed(m, texts.map((t) => `query: ${t}`));
      rows.forEach((x, i) => expect(cos(x.embedding, want.subarray(i * 32, (i + 1) * 32))).toBeGreaterThan(0.999999));
    } finally {
      await m.dispose();
    }
  });

  it('CSV (quoted commas, quotes and newlines) → .npy float32 [N, D], rows equal to JSONL and TSV input', async () => {
    const csv = await file('in.csv', '\ufeffid,text,label\n1,"hello, world",a\n2,"she said ""hi""\nand left",b\n3,plain,c\n');
    const npy = join(tmp, 'out.npy');
    expect((await run(embedCommand, '--model', model, '--input', csv, '--column', 'text', '--out', npy, '--device', 'cpu')).code).toBe(0);
    const { shape, data } = decodeNpy(await readFile(npy));
    expect(shape).toEqual([3, 32]);
    const jsonl = await file('in.jsonl', ['{"t": "hello, world", "n": 1}', '', '{"t": "she said \\"hi\\"\\nand left", "n": 2}', '{"t": "plain"}'].join('\n'));
    const tsv = await file('in.tsv', 'n\tt\n1\thello, world\n3\tplain\n');
    expect((await run(embedCommand, '--model', model, '--input', jsonl, '--column', 't', '--out', join(tmp, 'j.jsonl'), '--device', 'cpu')).code).toBe(0);
    expect((await run(embedCommand, '--model', model, '--input', tsv, '--column', 't', '--out', join(tmp, 't.jsonl'), '--device', 'cpu')).code).toBe(0);
    const j = (await readFile(join(tmp, 'j.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const t = (await readFile(join(tmp, 't.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(j.map((x) => x.text)).toEqual(['hello, world', 'she said "hi"\nand left', 'plain']);
    j.forEach((x, i) => expect(cos(x.embedding, data.subarray(i * 32, (i + 1) * 32))).toBeGreaterThan(0.999999));
    expect(cos(t[1].embedding, data.subarray(64, 96))).toBeGreaterThan(0.999999);
  });

  it('bad input and usage: exit 2, naming the file, line and column and the fix', async () => {
    const csv = await file('bad.csv', 'id,question\n1,hello\n2,too,many\n');
    const cases: Array<[string[], RegExp]> = [
      [['--input', csv, '--column', 'answer'], /bad\.csv: column 'answer' not found; columns are: id, question/],
      [['--input', csv, '--column', 'question'], /bad\.csv:3: 3 fields, the header has 2/],
      [['--input', csv], /2 columns \(id, question\); pick the text column with --column/],
      [['--input', await file('q.csv', 'a\n"open\n'), '--column', 'a'], /q\.csv:2: a quoted field is never closed/],
      [['--input', await file('b.jsonl', '{"t": "x"}\n{"t": 5}\n'), '--column', 't'], /b\.jsonl:2: field 't' is 5, not a string/],
      [['--input', await file('c.jsonl', '{"t": "x"}\nnot json\n'), '--column', 't'], /c\.jsonl:2: not valid JSON/],
      [['--input', await file('d.txt', 'x\n'), '--column', 't'], /--column applies to CSV/],
      [['--input', await file('e.xlsx', 'x')], /unsupported input type '\.xlsx'/],
      [['--input', join(tmp, 'missing.txt')], /missing\.txt does not exist/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(embedCommand, '--model', model, '--out', join(tmp, 'x.jsonl'), '--device', 'cpu', ...args);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(msg)]);
    }
    const usage: Array<[string[], RegExp]> = [
      [['--out', join(tmp, 'x.csv')], /must end in \.jsonl or \.npy/],
      [['--out', join(tmp, 'x.npy'), '--role', 'answer'], /--role must be query or document/],
      [['--out', join(tmp, 'x.npy'), '--batch-size', '0'], /--batch-size must be a positive integer/],
      [['--out', join(tmp, 'x.npy'), '--bogus'], /bogus/],
    ];
    for (const [args, msg] of usage) {
      const r = await run(embedCommand, '--model', model, '--input', csv, ...args);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(msg)]);
      expect(r.stderr).toMatch(/usage: embedsmith embed/);
    }
    const noModel = await run(embedCommand, '--model', join(tmp, 'nope'), '--input', await file('ok.txt', 'x\n'), '--out', join(tmp, 'x.npy'), '--device', 'cpu');
    expect([noModel.code, noModel.stderr]).toEqual([2, expect.stringMatching(/nope does not exist; check the path/)]);
  });
});

describe('embedsmith export', () => {
  it('writes a model folder with onnx/model.onnx and model_fp16.onnx that loads back bit-exact; finds RUN_DIR/model', async () => {
    const run1 = join(tmp, 'run1');
    await mkdir(run1);
    await writeRandomBert(join(run1, 'model'), { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', seed: 5 });
    const out = join(tmp, 'exported');
    const r = await run(exportCommand, '--model', run1, '--out', out, '--format', 'sentence-transformers,onnx,fp16');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model\.onnx .*MB/);
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual(['model.onnx', 'model_fp16.onnx']);
    const expected = (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw));
    const [a, b] = await Promise.all([loadModelFolder(join(run1, 'model'), { expected }), loadModelFolder(out, { expected })]);
    for (const [k, v] of a.params) expect(b.params.get(k)).toEqual(v);
    // ONNX alone may go into an existing folder; the folder format may not.
    expect((await run(exportCommand, '--model', out, '--out', out, '--format', 'onnx')).code).toBe(0);
    const again = await run(exportCommand, '--model', out, '--out', out);
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/lies inside --model .*which this command reads/)]);
    expect((await run(exportCommand, '--model', out, '--out', join(tmp, 'e2'), '--format', 'onnx,tflite')).code).toBe(2);
    // A recipe comes from a training run's settings, not a bare model folder.
    const recipe = await run(exportCommand, '--model', out, '--out', join(tmp, 'e3'), '--format', 'recipe');
    expect([recipe.code, recipe.stderr]).toEqual([2, expect.stringMatching(/RUN_DIR|config\.json|training run/)]);
  });
});
