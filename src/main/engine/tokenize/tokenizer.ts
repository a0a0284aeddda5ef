// Text → token id tensors for a model folder (DESIGN §5). `tokenizer.json` (WordPiece, BPE,
// Unigram, WordLevel) runs through @huggingface/tokenizers, the maintained JS port of HF
// tokenizers that transformers.js uses; a folder with only `vocab.txt` gets BERT's own
// tokeniser (wordpiece.ts). Both produce content ids; the special tokens around them come
// from the tokenizer's post-processor, so truncation can keep [CLS] … [SEP] (or <s> … </s>)
// and cut the text, as HF truncation of a single sequence does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../../../shared/errors.js';
import { parseVocabTxt, WordPieceTokenizer } from './wordpiece.js';
import { readJsonIfExists, specialIds, tokenString } from './tokenizer-files.js';

export interface LoadTokenizerOptions {
  /** Longest sequence, special tokens included. Default: tokenizer_config model_max_length, else 512. */
  maxLength?: number;
  /** Emit token_type_ids (BERT-family models take them; RoBERTa / XLM-R do not). */
  hasTokenTypeIds?: boolean;
  /** sentence-transformers' `do_lower_case`: lowercase the text before the tokenizer sees it. */
  lowercaseInput?: boolean;
}

export interface TokenBatch {
  batchSize: number;
  /** L: every row is padded to this length. */
  seqLen: number;
  /** [B, L] row-major. */
  inputIds: Int32Array;
  /** [B, L]: 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** [B, L] zeros (single-sequence inputs), or null when the model takes none. */
  tokenTypeIds: Int32Array | null;
  /** [B] real tokens per row, special tokens included. */
  lengths: Int32Array;
  /** Rows whose text was cut to fit maxLength (reported, never silent). */
  truncatedRows: number[];
}

export interface BatchOptions {
  /** Truncate each row to this many tokens (specials included). Default: the tokenizer's maxLength. */
  maxLength?: number;
  /** Pad every row to exactly this length (≥ the longest row). Default: the longest row. */
  padTo?: number;
}

export type TokenizerKind = 'WordPiece' | 'BPE' | 'Unigram' | 'WordLevel';

export class Tokenizer {
  constructor(
    readonly kind: TokenizerKind,
    readonly source: 'tokenizer.json' | 'vocab.txt',
    private readonly content: (text: string) => number[],
    readonly prefixIds: readonly number[],
    readonly suffixIds: readonly number[],
    readonly padId: number,
    readonly maxLength: number,
    readonly hasTokenTypeIds: boolean,
    private readonly lowercaseInput: boolean,
  ) {}

  /** Ids with special tokens, truncated to `maxLength` (the text is cut, the specials stay). */
  encode(text: string, maxLength = this.maxLength): { ids: number[]; truncated: boolean } {
    const specials = this.prefixIds.length + this.suffixIds.length;
    if (maxLength <= specials) {
      throw new EngineError('BAD_INPUT', `max length ${maxLength} leaves no room for text after ${specials} special tokens; use a max length of at least ${specials + 1}`);
    }
    const body = this.content(this.lowercaseInput ? text.toLowerCase() : text);
    const room = maxLength - specials;
    const truncated = body.length > room;
    return { ids: [...this.prefixIds, ...(truncated ? body.slice(0, room) : body), ...this.suffixIds], truncated };
  }

  /** Tokens the model would see for `text` without truncation, special tokens included. */
  countTokens(text: string): number {
    return this.prefixIds.length + this.content(this.lowercaseInput ? text.toLowerCase() : text).length + this.suffixIds.length;
  }

  encodeBatch(texts: readonly string[], opts: BatchOptions = {}): TokenBatch {
    const maxLength = opts.maxLength ?? this.maxLength;
    const rows = texts.map((t) => this.encode(t, maxLength));
    const longest = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
    const L = opts.padTo ?? longest;
    if (L < longest) {
      throw new EngineError('BAD_INPUT', `padTo ${L} is shorter than the longest row (${longest} tokens); pad to at least ${longest} or lower maxLength`);
    }
    const B = texts.length;
    const inputIds = new Int32Array(B * L).fill(this.padId);
    const attentionMask = new Int32Array(B * L);
    const lengths = new Int32Array(B);
    const truncatedRows: number[] = [];
    rows.forEach((r, b) => {
      inputIds.set(r.ids, b * L);
      attentionMask.fill(1, b * L, b * L + r.ids.length);
      lengths[b] = r.ids.length;
      if (r.truncated) truncatedRows.push(b);
    });
    return { batchSize: B, seqLen: L, inputIds, attentionMask, tokenTypeIds: this.hasTokenTypeIds ? new Int32Array(B * L) : null, lengths, truncatedRows };
  }
}

/** The tokenizer of a model folder: tokenizer.json if present, else vocab.txt (BERT WordPiece). */
export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const config = ((await readJsonIfExists(join(dir, 'tokenizer_config.json'))) ?? {}) as Record<string, unknown>;
  const specialMap = ((await readJsonIfExists(join(dir, 'special_tokens_map.json'))) ?? {}) as Record<string, unknown>;
  const maxLength = opts.maxLength ?? modelMaxLength(config) ?? 512;
  const lowercaseInput = opts.lowercaseInput ?? false;
  const json = (await readJsonIfExists(join(dir, 'tokenizer.json'))) as Record<string, unknown> | undefined;
  if (json) {
    const file = join(dir, 'tokenizer.json');
    const model = json.model as { type?: string } | undefined;
    const kind = model?.type as TokenizerKind | undefined;
    if (!kind || !['WordPiece', 'BPE', 'Unigram', 'WordLevel'].includes(kind)) {
      throw new EngineError('UNSUPPORTED', `${file} has tokenizer model type ${JSON.stringify(model?.type)}; supported: WordPiece, BPE, Unigram, WordLevel`, { file });
    }
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(json, config);
    } catch (e) {
      throw new EngineError('SCHEMA', `${file} could not be read as a tokenizer (${(e as Error).message}); re-save it with transformers' save_pretrained`, { file });
    }
    const { prefix, suffix } = specialIds(json.post_processor, file);
    const vocab = hf.get_vocab(true);
    const padName = tokenString(specialMap.pad_token) ?? tokenString(config.pad_token);
    const padding = json.padding as { pad_id?: number } | null | undefined;
    const padId = padding?.pad_id ?? (padName !== undefined ? vocab.get(padName) : undefined) ?? 0;
    const hasTypes = opts.hasTokenTypeIds ?? inputNames(config)?.includes('token_type_ids') ?? kind === 'WordPiece';
    const content = (t: string) => hf.encode(t, { add_special_tokens: false }).ids;
    return new Tokenizer(kind, 'tokenizer.json', content, prefix, suffix, padId, maxLength, hasTypes, lowercaseInput);
  }
  const vocabFile = join(dir, 'vocab.txt');
  let vocabText: string;
  try {
    vocabText = await readFile(vocabFile, 'utf8');
  } catch {
    throw new EngineError(
      'NOT_FOUND',
      `${dir} has no tokenizer.json and no vocab.txt. Fix: add the tokenizer files of the base model, or re-save it in Python with ` +
        '`AutoTokenizer.from_pretrained(dir).save_pretrained(dir)` (that writes tokenizer.json).',
      { dir },
    );
  }
  const vocab = parseVocabTxt(vocabText);
  const name = (key: string, dflt: string) => tokenString(specialMap[key]) ?? tokenString(config[key]) ?? dflt;
  const [unk, cls, sep, pad, mask] = [name('unk_token', '[UNK]'), name('cls_token', '[CLS]'), name('sep_token', '[SEP]'), name('pad_token', '[PAD]'), name('mask_token', '[MASK]')];
  const wp = new WordPieceTokenizer(
    vocab,
    {
      lowercase: config.do_lower_case !== false, // BertTokenizer's default is True
      stripAccents: typeof config.strip_accents === 'boolean' ? config.strip_accents : null,
      handleChineseChars: config.tokenize_chinese_chars !== false,
      unkToken: unk,
      specialTokens: [unk, cls, sep, pad, mask],
    },
    vocabFile,
  );
  const id = (tok: string) => {
    const v = wp.vocab.get(tok);
    if (v === undefined) throw new EngineError('BAD_INPUT', `${vocabFile} has no '${tok}' token; add it or name the right one in special_tokens_map.json`, { file: vocabFile });
    return v;
  };
  const hasTypes = opts.hasTokenTypeIds ?? inputNames(config)?.includes('token_type_ids') ?? true;
  return new Tokenizer('WordPiece', 'vocab.txt', (t) => wp.encode(t), [id(cls)], [id(sep)], wp.vocab.get(pad) ?? 0, maxLength, hasTypes, lowercaseInput);
}

// transformers writes a huge sentinel (int(1e30)) when the length is unknown: treat as unset.
function modelMaxLength(config: Record<string, unknown>): number | undefined {
  const n = config.model_max_length;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 1e6 ? n : undefined;
}

function inputNames(config: Record<string, unknown>): string[] | undefined {
  return Array.isArray(config.model_input_names) ? (config.model_input_names as string[]) : undefined;
}
