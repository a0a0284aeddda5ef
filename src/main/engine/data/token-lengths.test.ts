// Token-length checks with the real bert-base-uncased WordPiece vocabulary. Expected counts are
// counted by hand: "the cat sat on the mat" is six whole words in that vocabulary, so
// [CLS] … [SEP] makes 8; the e5 prefixes "query: " and "passage: " add two tokens each.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../../../test/support/tiny-model.js';
import { loadTokenizer, type Tokenizer } from '../tokenize/tokenizer.js';
import { applyEdit } from './edits.js';
import { importDataset } from './import.js';
import { importRetrievalSet } from './retrieval-import.js';
import { TEMPLATE_PRESETS } from './templates.js';
import { checkTokenLengths, modelTokenizer } from './token-lengths.js';
import type { ImportReport } from './types.js';

const BERT_TOK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/models/bert-wordpiece-uncased');
const CAT = 'the cat sat on the mat';
let tok: Tokenizer;
let tmp: string;
beforeAll(async () => void (tok = await loadTokenizer(BERT_TOK, { maxLength: 9 })));
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'tokens-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function pairs(): Promise<string> {
  await writeFile(join(tmp, 'p.csv'), `anchor,positive\n${CAT},a dog\na dog,${CAT}\n`);
  return (await importDataset(join(tmp, 'p.csv'), join(tmp, 'ds'))).dir;
}
const report = async (dir: string) => JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ImportReport;

describe('checkTokenLengths', () => {
  it('counts each role with its template and reports the texts over the limit', async () => {
    const dir = await pairs();
    const plain = await checkTokenLengths(dir, tok);
    expect(plain).toMatchObject({ checked: 4, longest: 8, tooLong: 0 });
    const r = await checkTokenLengths(dir, tok, 9, TEMPLATE_PRESETS.e5);
    expect(r).toMatchObject({ checked: 4, longest: 10, tooLong: 2 });
    expect(r.issues.map(({ line, role, tokens, maxLength, code, severity }) => ({ line, role, tokens, maxLength, code, severity }))).toEqual([
      { line: 2, role: 'anchor', tokens: 10, maxLength: 9, code: 'TOO_MANY_TOKENS', severity: 'warning' },
      { line: 3, role: 'positive', tokens: 10, maxLength: 9, code: 'TOO_MANY_TOKENS', severity: 'warning' },
    ]);
    expect(r.issues[0].message).toMatch(/^line 2: the anchor has 10 tokens with its template, over the model's 9/);
    const saved = await report(dir);
    expect(saved.counts.TOO_MANY_TOKENS).toBe(2);
    expect(saved.issues.filter((i) => i.code === 'TOO_MANY_TOKENS')).toHaveLength(2);
    expect(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')).counts.warnings).toBe(2);
  });

  it('a second check replaces the first one\'s findings', async () => {
    const dir = await pairs();
    await checkTokenLengths(dir, tok, 9, TEMPLATE_PRESETS.e5);
    await checkTokenLengths(dir, tok, 20, TEMPLATE_PRESETS.e5);
    const saved = await report(dir);
    expect(saved.issues.map((i) => i.code)).toEqual(['TOKEN_LENGTHS']);
    expect(saved.counts.TOO_MANY_TOKENS).toBeUndefined();
    expect(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')).counts.warnings).toBe(0);
  });

  it('edited rows are what is counted; an added row is named by its index', async () => {
    const dir = await pairs();
    await applyEdit(dir, { op: 'change', index: 0, fields: { anchor: 'a cat' } });
    await applyEdit(dir, { op: 'add', row: { anchor: `${CAT} ${CAT}`, positive: 'x' } });
    const r = await checkTokenLengths(dir, tok);
    expect(r.issues.map(({ line, index, role, tokens }) => ({ line, index, role, tokens }))).toEqual([{ line: null, index: 2, role: 'anchor', tokens: 14 }]);
    expect(r.issues[0].message).toMatch(/^row 2 \(added by an edit\): the anchor has 14 tokens/);
  });

  it('retrieval sets: queries with the query template, documents (title + text) with the document one', async () => {
    await writeFile(join(tmp, 'q.jsonl'), JSON.stringify({ _id: 'q1', text: CAT }) + '\n');
    await writeFile(join(tmp, 'c.jsonl'), [JSON.stringify({ _id: 'd1', title: 'a', text: 'dog' }), JSON.stringify({ _id: 'd2', title: 'the cat', text: 'sat on the mat' })].join('\n') + '\n');
    await writeFile(join(tmp, 'r.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
    const r = await importRetrievalSet({ queries: join(tmp, 'q.jsonl'), corpus: join(tmp, 'c.jsonl'), qrels: join(tmp, 'r.tsv') }, join(tmp, 'ret'), {
      lengthCheck: { tokenizer: tok, template: TEMPLATE_PRESETS.e5 },
    });
    const found = r.report.issues.filter((i) => i.code === 'TOO_MANY_TOKENS');
    expect(found.map((i) => [i.file, i.line, (i as { tokens?: number }).tokens])).toEqual([
      ['queries', 1, 10],
      ['corpus', 2, 10],
    ]);
    expect(r.meta.counts.warnings).toBe(2);
  });

  it('import with a length check writes the findings into the new folder\'s report', async () => {
    await writeFile(join(tmp, 'p.csv'), `anchor,positive\n${CAT},a dog\n`);
    const r = await importDataset(join(tmp, 'p.csv'), join(tmp, 'ds'), { lengthCheck: { tokenizer: tok, maxLength: 7 } });
    expect(r.report.issues.map((i) => [i.line, i.code])).toEqual([
      [null, 'TOKEN_LENGTHS'],
      [2, 'TOO_MANY_TOKENS'],
    ]);
    expect(await report(r.dir)).toEqual(r.report);
    expect(r.meta.counts.warnings).toBe(1);
  });

  it('modelTokenizer reads a model folder\'s tokenizer and max_seq_length without its weights', async () => {
    const model = join(tmp, 'model');
    await writeTinyModel(model, { st: { pooling: 'mean', normalize: true, maxSeqLength: 24 }, tokenizerFrom: BERT_TOK });
    await rm(join(model, 'model.safetensors'));
    const t = await modelTokenizer(model);
    expect(t.maxLength).toBe(24);
    expect(t.countTokens(CAT)).toBe(8);
    await expect(modelTokenizer(join(tmp, 'nothing'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('nothing does not exist; check the path') });
  });
});
