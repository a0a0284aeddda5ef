import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';
import { tokenizerTestStrings } from './test-strings.js';

const MODELS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/models');
const BERT = join(MODELS, 'bert-wordpiece-uncased');
const STRINGS = tokenizerTestStrings();
const HUGE = 1_000_000; // no truncation: compare whole sequences

type Ref = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
let tmp: string;

async function reference(dirName: string): Promise<Ref> {
  env.allowRemoteModels = false;
  env.localModelPath = tmp;
  return AutoTokenizer.from_pretrained(dirName, { local_files_only: true });
}

async function folder(name: string, files: Record<string, string | null>): Promise<string> {
  const dir = join(tmp, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    if (text === null) await copyFile(join(BERT, file), join(dir, file));
    else await writeFile(join(dir, file), text);
  }
  return dir;
}

/** Compares every string; returns the mismatches as readable lines. */
function compare(ours: Tokenizer, ref: Ref, strings: string[]): string[] {
  const bad: string[] = [];
  for (const s of strings) {
    const want = ref.encode(s) as number[];
    const got = ours.encode(s, HUGE).ids;
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${JSON.stringify(s)}: ours ${JSON.stringify(got)} vs transformers.js ${JSON.stringify(want)}`);
  }
  return bad;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-tok-'));
  await folder('bert', { 'tokenizer.json': null, 'vocab.txt': null, 'tokenizer_config.json': null, 'special_tokens_map.json': null });
  await folder('bert-vocab-only', { 'vocab.txt': null, 'tokenizer_config.json': null });
  // A cased variant: same vocabulary, BertNormalizer(lowercase=False), do_lower_case false.
  const json = JSON.parse(await readFile(join(BERT, 'tokenizer.json'), 'utf8'));
  json.normalizer.lowercase = false;
  const cfg = JSON.parse(await readFile(join(BERT, 'tokenizer_config.json'), 'utf8'));
  cfg.do_lower_case = false;
  await folder('bert-cased', { 'tokenizer.json': JSON.stringify(json), 'tokenizer_config.json': JSON.stringify(cfg) });
  await folder('bert-cased-vocab-only', { 'vocab.txt': null, 'tokenizer_config.json': JSON.stringify(cfg) });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('BERT WordPiece tokenizers agree with transformers.js', () => {
  it(`tokenizer.json: ${STRINGS.length} strings, same ids`, async () => {
    const ours = await loadTokenizer(join(tmp, 'bert'));
    expect(ours.source).toBe('tokenizer.json');
    expect(compare(ours, await reference('bert'), STRINGS)).toEqual([]);
  });

  it(`vocab.txt only (our BERT tokeniser): ${STRINGS.length} strings, same ids as transformers.js on tokenizer.json`, async () => {
    const ours = await loadTokenizer(join(tmp, 'bert-vocab-only'));
    expect(ours.source).toBe('vocab.txt');
    expect(compare(ours, await reference('bert'), STRINGS)).toEqual([]);
  });

  it('cased (do_lower_case false): tokenizer.json and vocab.txt both match transformers.js', async () => {
    const ref = await reference('bert-cased');
    expect(compare(await loadTokenizer(join(tmp, 'bert-cased')), ref, STRINGS)).toEqual([]);
    expect(compare(await loadTokenizer(join(tmp, 'bert-cased-vocab-only')), ref, STRINGS)).toEqual([]);
    // And casing really changed something, so the test above is not vacuous.
    const uncased = await loadTokenizer(join(tmp, 'bert'));
    expect((await loadTokenizer(join(tmp, 'bert-cased'))).encode('Hello World').ids).not.toEqual(uncased.encode('Hello World').ids);
  });

  it('padding and masks match transformers.js batches; truncation keeps [CLS] … [SEP]', async () => {
    const ref = await reference('bert');
    const texts = STRINGS.slice(0, 40);
    const toNum = (t: { data: ArrayLike<bigint | number> }) => Array.from(t.data, Number);
    for (const source of ['bert', 'bert-vocab-only']) {
      const ours = await loadTokenizer(join(tmp, source));
      const b = ours.encodeBatch(texts, { maxLength: HUGE });
      const want = await ref(texts, { padding: true });
      expect(b.seqLen).toBe(want.input_ids.dims[1]);
      expect(Array.from(b.inputIds)).toEqual(toNum(want.input_ids));
      expect(Array.from(b.attentionMask)).toEqual(toNum(want.attention_mask));
      expect(Array.from(b.tokenTypeIds!)).toEqual(toNum(want.token_type_ids!));
      // Truncation: HF transformers (Python) and sentence-transformers cut the text and keep
      // [SEP]; transformers.js 4.3 cuts the finished sequence, losing [SEP]. We follow Python:
      // the first 15 ids of the full sequence, then [SEP] (102).
      const t = ours.encodeBatch(texts, { maxLength: 16 });
      for (let r = 0; r < texts.length; r++) {
        const full = ref.encode(texts[r]) as number[];
        const expected = full.length <= 16 ? full : [...full.slice(0, 15), 102];
        expect(Array.from(t.inputIds.subarray(r * t.seqLen, r * t.seqLen + t.lengths[r]))).toEqual(expected);
        expect(ours.countTokens(texts[r])).toBe(full.length);
        expect(t.truncatedRows.includes(r)).toBe(full.length > 16);
      }
      expect(t.truncatedRows.length).toBeGreaterThan(5);
    }
  });
});

describe('BERT basic tokenisation details', () => {
  it('splits CJK by code point, astral planes included, and drops unassigned code points (BERT reference semantics)', async () => {
    // transformers.js' BertNormalizer tests UTF-16 units, so it leaves U+20000 (CJK Ext. B)
    // glued to its neighbours, and keeps unassigned code points; BERT's tokenization.py and
    // HF tokenizers (Rust) split the former and drop the latter. We follow the reference.
    const ours = await loadTokenizer(join(tmp, 'bert-vocab-only'));
    expect(ours.encode('ab\u{20000}ab').ids).toEqual([101, 11113, 100, 11113, 102]); // ab=11113, [UNK]=100
    expect(ours.encode('a\u0378b').ids).toEqual([101, 11113, 102]); // U+0378 is unassigned: "ab"
  });

  it('counts tokens without truncating and lowercases input when sentence-transformers says so', async () => {
    const ours = await loadTokenizer(join(tmp, 'bert'), { maxLength: 8 });
    expect(ours.countTokens('')).toBe(2);
    expect(ours.countTokens('hello world again and again and again')).toBe(9);
    expect(ours.encode('hello world again and again and again').ids.length).toBe(8);
    const cased = await loadTokenizer(join(tmp, 'bert-cased'), { lowercaseInput: true });
    const plain = await loadTokenizer(join(tmp, 'bert-cased'));
    expect(cased.encode('Hello').ids).toEqual(plain.encode('hello').ids);
  });

  it('pads to a requested length and leaves out token_type_ids when the model has none', async () => {
    const ours = await loadTokenizer(join(tmp, 'bert'), { hasTokenTypeIds: false });
    const b = ours.encodeBatch(['a', 'b c'], { padTo: 6 });
    expect(b.seqLen).toBe(6);
    expect(b.tokenTypeIds).toBeNull();
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(b.inputIds.slice(0, 6))).toEqual([101, 1037, 102, 0, 0, 0]); // 'a' = 1037 in bert-base-uncased
  });
});

describe('tokenizer errors', () => {
  it('a folder with no tokenizer files says what to add', async () => {
    const dir = await folder('empty', {});
    await expect(loadTokenizer(dir)).rejects.toThrow(/no tokenizer.json and no vocab.txt.*save_pretrained/);
  });

  it('an unsupported tokenizer model type is named', async () => {
    const dir = await folder('weird', { 'tokenizer.json': JSON.stringify({ model: { type: 'Mystery' } }) });
    await expect(loadTokenizer(dir)).rejects.toThrow(/model type "Mystery"/);
  });

  it('broken tokenizer.json JSON names the file, line and column', async () => {
    const dir = await folder('broken', { 'tokenizer.json': '{\n  "model": ,\n}' });
    const err = await loadTokenizer(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).message).toMatch(/tokenizer.json is not valid JSON at line 2/);
  });

  it('a vocab.txt without the unknown token is refused', async () => {
    const dir = await folder('nounk', { 'vocab.txt': '[PAD]\n[CLS]\n[SEP]\nhello\n' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/no unknown token '\[UNK\]'/);
  });

  it('a max length without room for text, and padTo shorter than a row, are bad input', async () => {
    const ours = await loadTokenizer(join(tmp, 'bert'));
    expect(() => ours.encode('hi', 2)).toThrow(/leaves no room/);
    expect(() => ours.encodeBatch(['one two three'], { padTo: 3 })).toThrow(/padTo 3 is shorter than the longest row \(5 tokens\)/);
  });
});
