// A model folder as the two functions mining, evaluation and plots take: `embed(texts, role)`
// (the role's instruction template applied, results cached per model/template/texts when a
// cache folder is given) and `search` (exact top-k on the model's device). One place decides
// how a role's text is templated, so mine, eval and train agree.
import { applyTemplate } from '../data/templates.js';
import { type EmbedRole, embedTexts, rolePrompt } from '../model/embed.js';
import { type EmbeddingModel, openModel } from '../model/open-model.js';
import type { PrecisionChoice } from '../../../shared/jobs.js';
import type { DevicePref } from '../runtime/index.js';
import { cachedEmbeddings, modelHash } from './embedding-cache.js';
import { createSearcher } from '../search/search.js';
import type { SearchFn } from '../search/top-k.js';

export interface ModelToolsOptions {
  device?: DevicePref;
  /** Default 'fp32'; fp16 embeddings are cached apart from fp32 ones. */
  precision?: PrecisionChoice;
  /** Per-role templates (a prefix or a format with {text}); default: the model's own prompts. */
  template?: Partial<Record<EmbedRole, string>>;
  maxLength?: number;
  /** Matryoshka truncation (open-model.ts OpenModelOptions.dims). */
  dims?: number;
  batchSize?: number;
  /** Embedding cache folder (e.g. PROJECT/cache/embeddings); none: no caching. */
  cacheDir?: string;
  signal?: AbortSignal;
  onEmbedProgress?: (done: number, total: number) => void;
}

/** Distinct texts each role embedded, and how many of them were cut to `maxLength` tokens. */
export interface Truncation {
  maxLength: number;
  byRole: Partial<Record<EmbedRole, { texts: number; cut: number }>>;
}

export interface ModelTools {
  model: EmbeddingModel;
  /** What embedding has cut so far (cached embeddings included): commands report it, never silently. */
  truncation(): Truncation;
  embed: (texts: string[], role: EmbedRole) => Promise<Float32Array>;
  search: SearchFn;
  /** The template each role gets (for records and model cards). */
  templateOf: (role: EmbedRole) => string;
  /** A document as this model sees it: its token ids after the document template and truncation (mining's duplicate key). */
  documentKey: (text: string) => string;
  dispose(): Promise<void>;
}

export async function openModelTools(modelDir: string, o: ModelToolsOptions = {}): Promise<ModelTools> {
  const model = await openModel(modelDir, { device: o.device, maxLength: o.maxLength, dims: o.dims, precision: o.precision });
  // fp32 keys stay as they were before precision existed, so existing caches still hit.
  const precisionKey = model.precision === 'fp32' ? '' : `\u0000${model.precision}`;
  const searcher = createSearcher({ device: model.device === 'cuda' ? 'cpu' : model.device, signal: o.signal });
  const hash = o.cacheDir ? await modelHash(modelDir) : '';
  const templateOf = (role: EmbedRole) => o.template?.[role] ?? rolePrompt(model.loaded.sentence, role);
  const maxLength = o.maxLength ?? model.tokenizer.maxLength;
  // Per role: every distinct text seen, and those cut (a text embedded twice counts once).
  const seen = new Map<EmbedRole, { texts: Set<string>; cut: Set<string> }>();
  const tally = (role: EmbedRole) => {
    let t = seen.get(role);
    if (!t) seen.set(role, (t = { texts: new Set(), cut: new Set() }));
    return t;
  };
  const templated = (texts: string[], role: EmbedRole) => {
    const t = templateOf(role);
    return t === '' ? texts : texts.map((x) => applyTemplate(t, x));
  };
  const compute = async (texts: string[], role: EmbedRole) => {
    const r = await embedTexts(model, templated(texts, role), { prompt: '', maxLength: o.maxLength, batchSize: o.batchSize, signal: o.signal, onProgress: (p) => o.onEmbedProgress?.(p.done, p.total) });
    const t = tally(role);
    for (const x of texts) t.texts.add(x);
    for (const i of r.truncated) t.cut.add(texts[i]);
    return r.embeddings;
  };
  /** A cache hit skipped the tokenizer: count its cuts with the tokenizer alone (no embedding). */
  const countCached = (texts: string[], role: EmbedRole) => {
    const t = tally(role);
    templated(texts, role).forEach((x, i) => {
      t.texts.add(texts[i]);
      if (model.tokenizer.encode(x, maxLength).truncated) t.cut.add(texts[i]);
    });
  };
  const keys = new Map<string, string>();
  const documentKey = (text: string) => {
    let k = keys.get(text);
    if (k === undefined) keys.set(text, (k = model.tokenizer.encode(templated([text], 'document')[0]!, maxLength).ids.join(',')));
    return k;
  };
  return {
    model,
    templateOf,
    documentKey,
    truncation: () => ({ maxLength, byRole: Object.fromEntries([...seen].map(([role, t]) => [role, { texts: t.texts.size, cut: t.cut.size }])) }),
    embed: async (texts, role) => {
      if (!o.cacheDir) return compute(texts, role);
      let computed = false;
      const prompt = `${templateOf(role)}\u0000${o.maxLength ?? ''}${model.dim < model.spec.hidden ? `\u0000dims ${model.dim}` : ''}${precisionKey}`;
      const r = await cachedEmbeddings(o.cacheDir, { modelHash: hash, prompt, texts, modelDir }, () => ((computed = true), compute(texts, role)));
      if (!computed) countCached(texts, role);
      return r;
    },
    search: (q, c, dim, k) => searcher.search(q, c, dim, k),
    async dispose() {
      await searcher.dispose();
      await model.dispose();
    },
  };
}

const ROLE_NAMES: Record<EmbedRole, [string, string]> = { query: ['query', 'queries'], document: ['document', 'documents'], text: ['text', 'texts'] };

/**
 * One line on what was cut, e.g. "432 of 440 documents and 3 of 240 queries were longer than
 * 32 tokens and were cut to 32"; null when nothing was.
 */
export function describeTruncation(t: Truncation, fix = 'raise --max-length to keep more'): string | null {
  // A fixed order, whichever role embedded first.
  const parts = (['document', 'query', 'text'] as const)
    .flatMap((role) => (t.byRole[role] && t.byRole[role].cut > 0 ? [[role, t.byRole[role]] as const] : []))
    .map(([role, c]) => `${c.cut} of ${c.texts} ${ROLE_NAMES[role][c.texts === 1 ? 0 : 1]}`);
  if (parts.length === 0) return null;
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `${list} were longer than ${t.maxLength} tokens and were cut to ${t.maxLength}; ${fix}`;
}
