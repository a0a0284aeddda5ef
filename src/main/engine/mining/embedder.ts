// A model folder as the two functions mining, evaluation and plots take: `embed(texts, role)`
// (the role's instruction template applied, results cached per model/template/texts when a
// cache folder is given) and `search` (exact top-k on the model's device). One place decides
// how a role's text is templated, so mine, eval and train agree.
import { applyTemplate } from '../data/templates.js';
import { type EmbedRole, embedTexts, rolePrompt } from '../model/embed.js';
import { type EmbeddingModel, openModel } from '../model/open-model.js';
import type { DevicePref } from '../runtime/index.js';
import { cachedEmbeddings, modelHash } from './embedding-cache.js';
import { createSearcher } from './search.js';
import type { SearchFn } from './top-k.js';

export interface ModelToolsOptions {
  device?: DevicePref;
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

export interface ModelTools {
  model: EmbeddingModel;
  embed: (texts: string[], role: EmbedRole) => Promise<Float32Array>;
  search: SearchFn;
  /** The template each role gets (for records and model cards). */
  templateOf: (role: EmbedRole) => string;
  dispose(): Promise<void>;
}

export async function openModelTools(modelDir: string, o: ModelToolsOptions = {}): Promise<ModelTools> {
  const model = await openModel(modelDir, { device: o.device, maxLength: o.maxLength, dims: o.dims });
  const searcher = createSearcher({ device: model.device === 'cuda' ? 'cpu' : model.device, signal: o.signal });
  const hash = o.cacheDir ? await modelHash(modelDir) : '';
  const templateOf = (role: EmbedRole) => o.template?.[role] ?? rolePrompt(model.loaded.sentence, role);
  const compute = async (texts: string[], role: EmbedRole) => {
    const t = templateOf(role);
    const input = t === '' ? texts : texts.map((x) => applyTemplate(t, x));
    const r = await embedTexts(model, input, { prompt: '', maxLength: o.maxLength, batchSize: o.batchSize, signal: o.signal, onProgress: (p) => o.onEmbedProgress?.(p.done, p.total) });
    return r.embeddings;
  };
  return {
    model,
    templateOf,
    embed: (texts, role) =>
      o.cacheDir ? cachedEmbeddings(o.cacheDir, { modelHash: hash, prompt: `${templateOf(role)}\u0000${o.maxLength ?? ''}${model.dim < model.spec.hidden ? `\u0000dims ${model.dim}` : ''}`, texts, modelDir }, () => compute(texts, role)) : compute(texts, role),
    search: (q, c, dim, k) => searcher.search(q, c, dim, k),
    async dispose() {
      await searcher.dispose();
      await model.dispose();
    },
  };
}
