// The dataset sub-commands and the retrieval / --model forms of import: exit codes (0 ok,
// 2 bad usage or input), what they print, and that they reach the engine.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDatasetRows } from '../../data/store.js';
import { saveTemplate } from '../../data/templates.js';
import { createProject } from '../../workspace/project.js';
import { writeTinyModel } from '../../../../../test/support/tiny-model.js';
import { datasetCommand } from './dataset.js';
import { importCommand } from './import.js';
import { sink } from '../../../../../test/support/cli-run.js';

const BERT_TOK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../test/fixtures/models/bert-wordpiece-uncased');
let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'cli-dataset-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function pairs(): Promise<string> {
  await writeFile(join(tmp, 'p.csv'), 'anchor,positive,label\nq0,p0,a\nq1,p1,b\n');
  const s = sink();
  expect(await importCommand([join(tmp, 'p.csv'), '--out', join(tmp, 'ds')], s.out)).toBe(0);
  return join(tmp, 'ds');
}
async function anchors(dir: string) {
  const out = [];
  for await (const r of readDatasetRows(dir)) out.push(r.anchor);
  return out;
}

describe('embedsmith dataset edit / undo / redo / history / show', () => {
  it('each edit op, then undo and redo, with history and show', async () => {
    const dir = await pairs();
    const s = sink();
    expect(await datasetCommand(['edit', dir, '--add', '{"anchor":"q2","positive":"p2","label":"a"}'], s.out)).toBe(0);
    expect(s.logs.at(-1)).toBe(`Edit #1: added row 2. Undo with \`embedsmith dataset undo ${dir}\`.`);
    expect(await datasetCommand(['edit', dir, '--change', '0', '{"anchor":"q0 new"}'], s.out)).toBe(0);
    expect(await datasetCommand(['edit', dir, '--relabel', '1', 'c'], s.out)).toBe(0);
    expect(await datasetCommand(['edit', dir, '--delete', '2'], s.out)).toBe(0);
    expect(await anchors(dir)).toEqual(['q0 new', 'q1']);
    expect(await datasetCommand(['undo', dir], s.out)).toBe(0);
    expect(s.logs.at(-1)).toBe('Undid edit #4 (delete row 2).');
    expect(await anchors(dir)).toEqual(['q0 new', 'q1', 'q2']);
    expect(await datasetCommand(['redo', dir], s.out)).toBe(0);
    expect(await anchors(dir)).toEqual(['q0 new', 'q1']);
    const h = sink();
    expect(await datasetCommand(['history', dir], h.out)).toBe(0);
    expect(h.logs.map((l) => l.replace(/ {2}\S+Z {2}/, '  TIME  ').replace(/ {2}[{n].*$/, ''))).toEqual([
      '#1  TIME  add row 2',
      '#2  TIME  change row 0',
      '#3  TIME  relabel row 1',
      '#4  TIME  delete row 2',
      '#5  TIME  undo of #4',
      '#6  TIME  redo of #4',
    ]);
    expect(h.logs[1]).toContain('{"line":2,"anchor":"q0","positive":"p0","label":"a"} → {"line":2,"anchor":"q0 new","positive":"p0","label":"a"}');
    const j = sink();
    expect(await datasetCommand(['history', dir, '--json'], j.out)).toBe(0);
    expect(JSON.parse(j.logs[0])).toHaveLength(6);
    const show = sink();
    expect(await datasetCommand(['show', dir, '1'], show.out)).toBe(0);
    expect(JSON.parse(show.logs[0])).toEqual({ index: 1, line: 3, anchor: 'q1', positive: 'p1', label: 'c' });
  });

  it.each([
    [['edit'], /give exactly one of --add, --change, --delete, --relabel \(got none\)/],
    [['edit', '--add', '{}', '--delete', '1'], /got --add, --delete/],
    [['edit', '--change', '0'], /--change N takes the new fields as JSON after N/],
    [['edit', '--change', 'x', '{}'], /--change takes a row index N .* got 'x'/],
    [['edit', '--add', 'not json'], /--add takes a JSON object/],
    [['edit', '--add', '{"anchor":"q","positive":" "}'], /edit refused: row 2: column 'positive' is empty/],
    [['edit', '--relabel', '0'], /--relabel N takes the new LABEL after N/],
    [['edit', '--delete', '9'], /has no row 9 \(indices run 0–1/],
    [['undo'], /nothing to undo/],
    [['redo'], /nothing to redo/],
    [['show'], /give DATASET_DIR and at least one row index N/],
  ])('%j: exit 2 with a message naming the problem', async (args, message) => {
    const dir = await pairs();
    const [sub, ...rest] = args;
    const s = sink();
    expect(await datasetCommand([sub, ...(sub === 'show' ? [] : [dir]), ...rest], s.out)).toBe(2);
    expect(s.errors.join('\n')).toMatch(message);
    expect(s.errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('an unknown sub-command or a flag of another sub-command is a usage error', async () => {
    const dir = await pairs();
    const s = sink();
    expect(await datasetCommand(['frobnicate', dir], s.out)).toBe(2);
    expect(s.errors[0]).toContain("unknown dataset command 'frobnicate'");
    expect(await datasetCommand(['undo', dir, '--seed', '1'], s.out)).toBe(2);
  });
});

describe('embedsmith dataset retrieval / check', () => {
  it('derives a retrieval set from the eval split', async () => {
    const body = Array.from({ length: 10 }, (_, i) => `a${i},b${i}`).join('\n');
    await writeFile(join(tmp, 'p.csv'), `anchor,positive\n${body}\n`);
    const s = sink();
    expect(await importCommand([join(tmp, 'p.csv'), '--out', join(tmp, 'ds')], s.out)).toBe(0);
    expect(await datasetCommand(['split', join(tmp, 'ds'), '--eval', '0.2'], s.out)).toBe(0);
    expect(await datasetCommand(['retrieval', join(tmp, 'ds'), '--out', join(tmp, 'ret'), '--split', 'eval'], s.out)).toBe(0);
    expect(s.logs.at(-1)).toBe(`Wrote a retrieval set to ${join(tmp, 'ret')}: 2 queries, 2 documents, 2 relevance judgements.`);
    expect(await datasetCommand(['retrieval', join(tmp, 'ds'), '--out', join(tmp, 'r2'), '--split', 'test'], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain("--split must be train or eval, got 'test'");
  });

  it('check counts tokens with a model folder\'s tokenizer; without --model or with a bad preset it is exit 2', async () => {
    const dir = await pairs();
    const model = join(tmp, 'model');
    await writeTinyModel(model, { st: { pooling: 'mean', normalize: true, maxSeqLength: 4 }, tokenizerFrom: BERT_TOK });
    const s = sink();
    // max_seq_length 4 leaves room for two text tokens: with its two-token e5 prefix every text is over.
    expect(await datasetCommand(['check', dir, '--model', model, '--template', 'e5'], s.out)).toBe(0);
    expect(s.logs[0]).toMatch(/^Counted 4 texts: the longest has \d+ tokens; 4 over the max length/);
    expect(await datasetCommand(['check', dir], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain('--model MODEL_DIR is required');
    expect(await datasetCommand(['check', dir, '--model', model, '--template', 'nope'], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain("no template 'nope': presets are none, e5, bge, nomic, instructor, qwen3, embeddinggemma; a name saved on the Templates page is found when the data lies inside its project");
  });

  it('check --template takes a template saved in the project the dataset lies in', async () => {
    const project = await createProject(join(tmp, 'proj'), 'Proj');
    try {
      await saveTemplate(project.dir, 'queries-only', { query: 'query: ', document: '', text: '' });
      await writeFile(join(tmp, 'p.csv'), 'anchor,positive,label\nq0,p0,a\nq1,p1,b\n');
      const s = sink();
      const dir = join(project.dir, 'datasets', 'ds');
      expect(await importCommand([join(tmp, 'p.csv'), '--out', dir], s.out)).toBe(0);
      const model = join(tmp, 'model');
      await writeTinyModel(model, { st: { pooling: 'mean', normalize: true, maxSeqLength: 4 }, tokenizerFrom: BERT_TOK });
      // Only the two queries get the two-token prefix that takes them over 4; with e5 all four were.
      expect(await datasetCommand(['check', dir, '--model', model, '--template', 'queries-only'], s.out)).toBe(0);
      const logs = s.logs.slice(s.logs.findIndex((l) => l.startsWith('Counted')));
      expect(logs[0]).toMatch(/^Counted 4 texts: the longest has \d+ tokens; 2 over the max length/);
      expect(logs.slice(1).map((l) => l.match(/the (\w+) has/)?.[1])).toEqual(['anchor', 'anchor']);
    } finally {
      await project.close();
    }
  });
});

describe('embedsmith import: retrieval sets and --model', () => {
  async function beir() {
    await writeFile(join(tmp, 'queries.jsonl'), '{"_id":"q1","text":"cats"}\n{"_id":"q2","text":"dogs"}\n');
    await writeFile(join(tmp, 'corpus.jsonl'), '{"_id":"d1","title":"","text":"Cats purr."}\n');
    await writeFile(join(tmp, 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td9\t1\n');
    return ['--queries', join(tmp, 'queries.jsonl'), '--corpus', join(tmp, 'corpus.jsonl'), '--qrels', join(tmp, 'test.tsv')];
  }

  it('--queries/--corpus/--qrels --json prints the DESIGN shape plus the three counts', async () => {
    const s = sink();
    expect(await importCommand([...(await beir()), '--out', join(tmp, 'ret'), '--json'], s.out)).toBe(0);
    const o = JSON.parse(s.logs[0]);
    expect(Object.keys(o)).toEqual(['dataset', 'format', 'rows', 'skipped', 'issues', 'queries', 'corpus', 'qrels']);
    expect(o).toMatchObject({ format: 'retrieval', rows: 1, skipped: 1, queries: 1, corpus: 1, qrels: 1 });
    expect(o.issues.map((i: { line: number; code: string }) => [i.line, i.code])).toEqual([
      [3, 'UNKNOWN_DOCUMENT'],
      [2, 'NO_RELEVANT'],
    ]);
  });

  it('a missing part, or a FILE beside them, is exit 2', async () => {
    const files = await beir();
    const s = sink();
    expect(await importCommand([...files.slice(0, 4), '--out', join(tmp, 'ret')], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain('missing --qrels FILE');
    expect(await importCommand(['x.csv', ...files, '--out', join(tmp, 'ret')], s.out)).toBe(2);
    expect(await importCommand([...files, '--out', join(tmp, 'ret'), '--map', 'anchor=x'], s.out)).toBe(2);
  });

  it('--model checks token lengths at import; a bad model folder stops it before anything is written', async () => {
    const model = join(tmp, 'model');
    await writeTinyModel(model, { st: { pooling: 'mean', normalize: true, maxSeqLength: 6 }, tokenizerFrom: BERT_TOK });
    await writeFile(join(tmp, 'p.csv'), 'anchor,positive\nthe cat sat on the mat,a dog\n');
    const s = sink();
    expect(await importCommand([join(tmp, 'p.csv'), '--out', join(tmp, 'ds'), '--model', model], s.out)).toBe(0);
    expect(s.logs.join('\n')).toContain('Token counts (max length 6): 2 texts, the longest 8 tokens, 1 over the limit.');
    expect(s.logs.join('\n')).toContain('warning: line 2: the anchor has 8 tokens');
    const report = JSON.parse(await readFile(join(tmp, 'ds', 'report.json'), 'utf8'));
    expect(report.counts).toEqual({ TOO_MANY_TOKENS: 1 });
    expect(await importCommand([join(tmp, 'p.csv'), '--out', join(tmp, 'ds2'), '--model', join(tmp, 'nope')], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain('nope does not exist; check the path');
    expect(await importCommand([join(tmp, 'p.csv'), '--out', join(tmp, 'ds3'), '--max-length', '8'], s.out)).toBe(2);
    expect(s.errors.at(-1)).toContain('--max-length and --template need --model');
    expect((await readdir(tmp)).sort()).toEqual(['ds', 'model', 'p.csv']);
  });
});
