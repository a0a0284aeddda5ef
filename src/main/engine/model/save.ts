// Saving a complete model folder that transformers, sentence-transformers and
// transformers.js all load (DESIGN §5): config.json, model.safetensors (float32, keys sorted,
// metadata format=pt as transformers writes), the tokenizer files, the sentence-transformers
// modules, and a model card. The folder is written under a temporary name beside the target
// and renamed into place, so a crash leaves the old folder or none, never half of one.
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ioError, syncDir, syncTree, tempPathFor } from '../workspace/atomic.js';
import { checkOutPath } from '../workspace/out-path.js';
import { BARE_ARCHITECTURE } from './config.js';
import { isDenseKey } from '../nn/index.js';
import { writeDenseModules } from './dense-modules.js';
import type { LoadedModel } from './load.js';
import { renderModelCard, type ModelCardInfo } from './model-card.js';
import { toFloat32, writeSafetensors, type TensorToWrite } from './safetensors.js';

export interface SaveOptions {
  /** Replace an existing folder at `outDir` (default: refuse). */
  overwrite?: boolean;
  /** Write README.md from this. */
  card?: ModelCardInfo;
  /**
   * Without `card`: the folder being exported, whose README.md (a trained model's card, or a
   * hub model's own) is carried over; when it has none, a card saying where the model came from.
   */
  cardFrom?: string;
  /**
   * config_sentence_transformers.json prompts to write instead of the model's own, e.g. the
   * training template's (data/templates.ts templateToPrompts). default_prompt_name is then
   * null: the template names which prompt goes with which role, none applies to everything.
   */
  prompts?: Record<string, string>;
}

/** The parts of a model a save needs: a LoadedModel, or one with trained parameters swapped in. */
export type SavableModel = Pick<LoadedModel, 'hfDir' | 'config' | 'params' | 'shapes' | 'passthrough' | 'sentence' | 'tokenizerFiles'>;

export async function saveModelFolder(model: SavableModel, outDir: string, opts: SaveOptions = {}): Promise<void> {
  const target = resolve(outDir);
  await checkOutPath(outDir, 'folder'); // never replace a file with a folder, overwrite or not
  const existing = await stat(target).catch(() => undefined);
  if (existing && !opts.overwrite) {
    throw new EngineError('ALREADY_EXISTS', `${target} already exists; choose another output folder or allow overwriting`, { path: target });
  }
  await mkdir(dirname(target), { recursive: true }).catch((e) => {
    throw ioError(e, dirname(target), 'create');
  });
  const temp = tempPathFor(target);
  try {
    await writeFolder(model, temp, opts.card, opts.prompts);
    if (!opts.card && opts.cardFrom) await writeFile(join(temp, 'README.md'), await carriedCard(opts.cardFrom, model));
    await syncTree(temp); // the files' data reaches the disk before the name that publishes them
    if (existing) {
      // Two renames: the old folder steps aside, the new one steps in, then the old one goes.
      const old = `${temp}.old`;
      await rename(target, old);
      await rename(temp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, target);
    }
    await syncDir(dirname(target));
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw ioError(e, target, 'save the model to');
  }
}

async function writeFolder(model: SavableModel, dir: string, card: ModelCardInfo | undefined, prompts: Record<string, string> | undefined): Promise<void> {
  const { config, sentence } = model;
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  // Every field of the source config survives; only what describes the saved file changes.
  const cfg = { ...config.raw, architectures: [BARE_ARCHITECTURE[config.family]], torch_dtype: 'float32' };
  await writeFile(join(dir, 'config.json'), json(cfg));
  await writeFile(join(dir, 'model.safetensors'), serializeWeights(model));
  for (const f of model.tokenizerFiles) await copyFile(join(model.hfDir, f), join(dir, f));
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  // Dense modules (EmbeddingGemma's two) after the pooling, each in a folder of its own.
  const dense = sentence.dense.map((m, i) => ({ ...m, path: `${2 + i}_Dense` }));
  await writeDenseModules(dir, dense, model.params);
  for (const m of dense) modules.push({ idx: modules.length, name: String(modules.length), path: m.path, type: 'sentence_transformers.models.Dense' });
  if (sentence.normalize) {
    const path = `${modules.length}_Normalize`;
    modules.push({ idx: modules.length, name: String(modules.length), path, type: 'sentence_transformers.models.Normalize' });
    await mkdir(join(dir, path));
  }
  await writeFile(join(dir, 'modules.json'), json(modules));
  await writeFile(
    join(dir, '1_Pooling', 'config.json'),
    json({
      word_embedding_dimension: config.hiddenSize,
      pooling_mode_cls_token: sentence.pooling === 'cls',
      pooling_mode_mean_tokens: sentence.pooling === 'mean',
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: sentence.pooling === 'lasttoken',
      include_prompt: sentence.includePrompt,
    }),
  );
  const sb: Record<string, unknown> = { max_seq_length: sentence.maxSeqLength ?? undefined, do_lower_case: sentence.doLowerCase };
  await writeFile(join(dir, 'sentence_bert_config.json'), json(sb));
  await writeFile(
    join(dir, 'config_sentence_transformers.json'),
    json({
      model_type: 'SentenceTransformer',
      prompts: prompts ?? sentence.prompts,
      default_prompt_name: prompts ? null : sentence.defaultPromptName,
      similarity_fn_name: sentence.similarityFnName ?? 'cosine',
      // Only when set: sentence-transformers reads it back as the model's truncate_dim.
      ...(sentence.truncateDim ? { truncate_dim: sentence.truncateDim } : {}),
    }),
  );
  if (card) await writeFile(join(dir, 'README.md'), renderModelCard(card));
}

/** The source folder's README.md, or a card that names the source and says it was not trained here. */
async function carriedCard(from: string, model: SavableModel): Promise<string> {
  const own = await readFile(join(from, 'README.md'), 'utf8').catch(() => null);
  if (own !== null) return own;
  const s = model.sentence;
  return [
    '---', 'library_name: sentence-transformers', 'pipeline_tag: sentence-similarity', 'tags:', '  - sentence-transformers', '  - embedsmith', '---', '',
    `# ${basename(resolve(from))}`, '',
    `Exported by Embedsmith from \`${from}\`, weights unchanged (it was not fine-tuned here, and the source folder has no model card).`, '',
    '## Model', '',
    `- ${model.config.family}, ${model.config.numLayers} layers, width ${model.config.hiddenSize}`,
    `- pooling: ${s.pooling}`, `- normalised embeddings: ${s.normalize ? 'yes' : 'no'}`,
    ...(s.maxSeqLength ? [`- max sequence length: ${s.maxSeqLength}`] : []), '',
    '## Licences', '', `- The source model's terms apply; \`${from}\` does not state them.`, '',
  ].join('\n');
}

/** model.safetensors bytes: parameters (not the Dense modules') and passthrough tensors, keys sorted, floats as F32. */
export function serializeWeights(model: Pick<SavableModel, 'params' | 'shapes' | 'passthrough'>): Uint8Array {
  const all = new Map<string, TensorToWrite>();
  for (const [k, data] of model.params) {
    if (isDenseKey(k)) continue; // in the Dense modules' own folders (writeDenseModules)
    const shape = model.shapes.get(k);
    if (!shape) throw new EngineError('INTERNAL', `parameter '${k}' has no shape`);
    all.set(k, { dtype: 'F32', shape, data });
  }
  for (const [k, t] of model.passthrough) {
    if (all.has(k)) continue; // a trained parameter wins over a stale copy
    const isFloat = t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64';
    all.set(k, isFloat ? { dtype: 'F32', shape: t.shape, data: toFloat32(t, k) } : { dtype: t.dtype, shape: t.shape, data: t.bytes });
  }
  const sorted = [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return writeSafetensors(sorted, { format: 'pt' });
}
