// Small readers for the tokenizer side files of a Hugging Face folder: the post-processor of
// tokenizer.json (which special tokens wrap a single sequence) and the token names of
// special_tokens_map.json / tokenizer_config.json (a string, or an AddedToken object).
import { EngineError } from '../../../shared/errors.js';
import { readTextIfExists } from '../workspace/fs-errors.js';
import { parseJsonFile } from '../workspace/json-file.js';

/** Parsed JSON of `path`, undefined when the file does not exist; broken JSON is an error. */
export async function readJsonIfExists(path: string): Promise<unknown> {
  const text = await readTextIfExists(path);
  return text === undefined ? undefined : parseJsonFile(path, text);
}

/** `"[CLS]"` or `{ "content": "[CLS]", … }` → "[CLS]". */
export function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

type Processor = { type?: string; [k: string]: unknown };
type TemplatePiece = { SpecialToken?: { id: string }; Sequence?: { id: string } };

/**
 * The ids a single sequence gets before and after its text. Formats (HF tokenizers'
 * processors): BertProcessing / RobertaProcessing `{ cls: [tok, id], sep: [tok, id] }`;
 * TemplateProcessing `{ single: [pieces], special_tokens: { name: { ids } } }`; Sequence of
 * processors (ByteLevel + Template in newer Llama-style files); ByteLevel alone adds none.
 */
export function specialIds(pp: unknown, file: string): { prefix: number[]; suffix: number[] } {
  if (pp === null || pp === undefined) return { prefix: [], suffix: [] };
  const p = pp as Processor;
  switch (p.type) {
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const cls = p.cls as [string, number];
      const sep = p.sep as [string, number];
      return { prefix: [cls[1]], suffix: [sep[1]] };
    }
    case 'TemplateProcessing': {
      const single = p.single as TemplatePiece[];
      const tokens = (p.special_tokens ?? {}) as Record<string, { ids: number[] }>;
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seen = false;
      for (const piece of single) {
        if (piece.Sequence) {
          seen = true;
          continue;
        }
        const name = piece.SpecialToken?.id;
        const ids = name === undefined ? undefined : tokens[name]?.ids;
        if (!ids) throw new EngineError('SCHEMA', `${file}: post_processor template names special token ${JSON.stringify(name)} that special_tokens does not define; re-save the tokenizer with save_pretrained`, { file });
        (seen ? suffix : prefix).push(...ids);
      }
      return { prefix, suffix };
    }
    case 'Sequence': {
      const parts = (p.processors as Processor[]).map((q) => specialIds(q, file));
      return { prefix: parts.flatMap((q) => q.prefix), suffix: parts.flatMap((q) => q.suffix) };
    }
    case 'ByteLevel':
      return { prefix: [], suffix: [] };
    default:
      throw new EngineError('UNSUPPORTED', `${file}: post_processor type ${JSON.stringify(p.type)} is not supported; supported: BertProcessing, RobertaProcessing, TemplateProcessing, ByteLevel, Sequence`, { file });
  }
}
