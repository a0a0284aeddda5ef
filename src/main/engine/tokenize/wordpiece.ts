// BERT's tokeniser for folders that ship only `vocab.txt` (no tokenizer.json).
// References: google-research/bert tokenization.py (BasicTokenizer, WordpieceTokenizer) and
// Hugging Face tokenizers' BertNormalizer / BertPreTokenizer / WordPiece model, which the
// tokenizer.json of every BERT checkpoint describes. Steps, in their order:
//   1. special tokens ([CLS], [SEP] …) written literally in the text are matched first, on the
//      raw text (tokenizer.json marks them `normalized: false`);
//   2. clean: drop U+0000, U+FFFD and control characters (Unicode category C*, except \t \n \r);
//      every whitespace character becomes a space;
//   3. put spaces around CJK ideographs (by code point, astral planes included);
//   4. lowercase, then strip accents (NFD, drop Mn) — accents follow lowercasing unless the
//      config says otherwise, as in BertNormalizer(strip_accents=None);
//   5. split on whitespace, and every punctuation character (ASCII punctuation or Unicode P*)
//      becomes its own word;
//   6. WordPiece: greedy longest match, continuation pieces prefixed '##'; a word with no
//      segmentation, or longer than 100 code points, becomes [UNK] as a whole.
import { EngineError } from '../../../shared/errors.js';

export interface WordPieceOptions {
  /** `do_lower_case` of tokenizer_config.json; uncased BERT checkpoints set it. */
  lowercase: boolean;
  /** null: follow `lowercase` (the BertNormalizer default). */
  stripAccents?: boolean | null;
  /** `tokenize_chinese_chars`: split CJK ideographs into single-character words. */
  handleChineseChars?: boolean;
  unkToken?: string;
  /** Literal strings matched before normalisation and mapped to their own ids. */
  specialTokens?: string[];
  maxInputCharsPerWord?: number;
}

const CONTROL = /\p{C}/u;
const WHITESPACE = /\s/u;
const PUNCT = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u;
const MN = /\p{Mn}/gu;

// The ranges of BERT's _is_chinese_char: CJK Unified Ideographs and their extensions and
// compatibility blocks. Not Hangul, Hiragana or Katakana, which BERT treats as letters.
const CJK: Array<[number, number]> = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
];
const isCjk = (cp: number) => CJK.some(([a, b]) => cp >= a && cp <= b);

export class WordPieceTokenizer {
  readonly vocab: Map<string, number>;
  readonly unkId: number;
  readonly #opts: Required<Omit<WordPieceOptions, 'stripAccents'>> & { stripAccents: boolean };
  readonly #special: string[];

  constructor(vocab: readonly string[], opts: WordPieceOptions, file = 'vocab.txt') {
    this.vocab = new Map();
    // A duplicated line keeps the later id, as transformers' load_vocab (a dict) does.
    vocab.forEach((tok, i) => this.vocab.set(tok, i));
    const unkToken = opts.unkToken ?? '[UNK]';
    const unk = this.vocab.get(unkToken);
    if (unk === undefined) {
      throw new EngineError('BAD_INPUT', `${file} has no unknown token '${unkToken}'; add it to the vocabulary or set unk_token in tokenizer_config.json`, { file });
    }
    this.unkId = unk;
    this.#opts = {
      lowercase: opts.lowercase,
      stripAccents: opts.stripAccents ?? opts.lowercase,
      handleChineseChars: opts.handleChineseChars ?? true,
      unkToken,
      specialTokens: opts.specialTokens ?? [],
      maxInputCharsPerWord: opts.maxInputCharsPerWord ?? 100,
    };
    // Longest first, so '[SEP]x' can never shadow a longer special token sharing its start.
    this.#special = [...new Set(this.#opts.specialTokens)].filter((t) => this.vocab.has(t)).sort((a, b) => b.length - a.length);
  }

  /** Token ids of `text`, without [CLS]/[SEP]. */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.vocab.get(t) ?? this.unkId);
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const seg of this.#splitSpecial(text)) {
      if (seg.special) out.push(seg.text);
      else for (const word of this.#basic(seg.text)) out.push(...this.#wordpiece(word));
    }
    return out;
  }

  #splitSpecial(text: string): Array<{ text: string; special: boolean }> {
    if (this.#special.length === 0) return [{ text, special: false }];
    const out: Array<{ text: string; special: boolean }> = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.#special.find((s) => text.startsWith(s, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push({ text: text.slice(start, i), special: false });
      out.push({ text: hit, special: true });
      i += hit.length;
      start = i;
    }
    if (start < text.length) out.push({ text: text.slice(start), special: false });
    return out;
  }

  /** Steps 2–5: normalised words. */
  #basic(text: string): string[] {
    let s = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd) continue;
      if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch)) continue;
      if (WHITESPACE.test(ch)) s += ' ';
      else if (this.#opts.handleChineseChars && isCjk(cp)) s += ` ${ch} `;
      else s += ch;
    }
    if (this.#opts.lowercase) s = s.toLowerCase();
    if (this.#opts.stripAccents) s = s.normalize('NFD').replace(MN, '');
    const words: string[] = [];
    for (const chunk of s.split(' ')) {
      let cur = '';
      for (const ch of chunk) {
        if (PUNCT.test(ch)) {
          if (cur) words.push(cur);
          words.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur) words.push(cur);
    }
    return words;
  }

  /** Step 6 for one word. */
  #wordpiece(word: string): string[] {
    const chars = [...word];
    if (chars.length > this.#opts.maxInputCharsPerWord) return [this.#opts.unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        if (this.vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return [this.#opts.unkToken];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}

/** vocab.txt: one token per line, the line number is the id; trailing whitespace is not part
 *  of a token (Rust tokenizers trims it) and a final newline does not start a token. */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
