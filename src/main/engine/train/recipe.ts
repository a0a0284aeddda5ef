// `embedsmith export --model RUN_DIR --format recipe --out DIR` (issue: "beyond one machine"):
// a finished or running Embedsmith run as a sentence-transformers training folder for a
// multi-GPU machine or cluster — train.jsonl (the rows the run trains on, negatives included,
// texts without templates), eval.json, train.py (recipe-script.ts), recipe.json and README.md.
// Every value comes from RUN_DIR/config.json; a setting sentence-transformers cannot express
// the same way is refused with the reason, not approximated.
import { existsSync } from 'node:fs';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { readDatasetMeta, readRowsWithEdits } from '../data/store.js';
import { writeDatasetFolder } from '../data/write-folder.js';
import { templateToPrompts } from '../data/templates.js';
import { DEFAULT_CUTOFFS, metricKeys } from '../eval/metrics.js';
import { parseJsonFile } from '../workspace/json-file.js';
import { type Example, loadExamples } from './examples.js';
import { type RecipeLoss, losses, resolveLoss } from './losses/index.js';
import { REQUIREMENTS, recipeReadme, trainPy, type RecipeCounts } from './recipe-script.js';
import { settingsFromJson, trainDefaults, trainSettingRows } from '../../../shared/train-settings.js';
import { type TrainSettings, checkSettings } from './settings.js';

export const RECIPE_SCHEMA_VERSION = 1;
/** The InformationRetrievalEvaluator's name: its metrics are `<name>_cosine_<metric>`. */
const EVAL_NAME = 'embedsmith';

/** What train.py reads (its RECIPE literal); keys are sentence-transformers' and transformers' own. */
export interface Recipe {
  made_from: string;
  base_model: { path: string; hub_id: string | null; revision: string | null };
  columns: string[];
  /** SentenceTransformerTrainingArguments.prompts: column → prefix (null: none). */
  prompts: Record<string, string> | null;
  /** Saved with the model (config_sentence_transformers.json), as Embedsmith saves them. */
  model_prompts: Record<string, string>;
  max_seq_length: number;
  dropout: number | null;
  /** A sentence-transformers loss class and its keyword arguments. */
  loss: RecipeLoss;
  /** The global batch: per device = batch_size / processes. */
  batch_size: number;
  shuffle: boolean;
  /** A fraction of the run (< 1, ceil) or a number of steps; train.py picks the transformers field. */
  warmup: number;
  args: Record<string, string | number | boolean>;
  eval: { file: string; name: string; during_training: boolean; cutoffs: Record<string, number[]> } | null;
  early_stopping_patience: number;
}

/** Evaluator inputs built as `embedsmith eval` builds them (eval/evaluate.ts). */
export interface IrSet {
  queries: Record<string, string>;
  corpus: Record<string, string>;
  relevant_docs: Record<string, string[]>;
}

/**
 * RUN_DIR/config.json as TrainSettings. A setting added after the run was made (e.g. loss) takes
 * its default, which is what the run did; `filled` names them.
 */
export async function readRunSettings(runDir: string): Promise<{ settings: TrainSettings; filled: string[] }> {
  const path = join(runDir, 'config.json');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new EngineError('NOT_FOUND', `${runDir} has no config.json. Fix: give --model the RUN_DIR that \`embedsmith train --out\` made.`, { path });
  });
  const raw = parseJsonFile(path, text) as Record<string, unknown>;
  if (!('batchSize' in raw) || !('data' in raw)) {
    throw new EngineError('BAD_INPUT', `${path} is a model's config, not a training run's. Fix: --format recipe needs the RUN_DIR of \`embedsmith train\` (the folder holding config.json, metrics.jsonl and model/).`, { path });
  }
  const missing = ['model', 'template'].filter((k) => !(k in raw));
  if (missing.length) {
    throw new EngineError('SCHEMA', `${path} lacks ${missing.join(' and ')}, so the recipe cannot repeat the run. Fix: add the values the run used, or train again.`, { path });
  }
  const defaults = trainDefaults();
  const filled = Object.keys(defaults).filter((k) => !(k in raw));
  // JSON has no Infinity: --max-grad-norm Infinity (clipping off) is stored as null.
  const merged = settingsFromJson({ ...defaults, threads: 1, ...raw }) as unknown as TrainSettings;
  return { settings: checkSettings(merged), filled };
}

/**
 * The loss sentence-transformers trains with, the same as the run's: the loss unit's own
 * (train/losses/<name>.ts recipe), inside MatryoshkaLoss at the run's widths. A loss without
 * a sentence-transformers equal is refused, naming those that have one.
 */
export function recipeLoss(s: TrainSettings, format: string): Recipe['loss'] {
  const unit = resolveLoss(s.loss, format);
  if (!unit.recipe) {
    const covered = losses().filter((l) => l.recipe);
    throw new EngineError(
      'UNSUPPORTED',
      `the run trained with ${unit.title} (${unit.formats.join(', ')}); --format recipe covers ${covered.map((l) => l.title).join(', ')} runs (${[...new Set(covered.flatMap((l) => l.formats))].join(', ')}). Fix: export a run with one of those losses, or train this one with Embedsmith.`,
      { setting: 'loss' },
    );
  }
  const loss = unit.recipe(s);
  if (s.lora !== null) {
    throw new EngineError('UNSUPPORTED', `the run trained LoRA adapters (--lora ${s.lora}); the recipe's train.py fine-tunes every weight, so it would train another model. Fix: export a run without --lora, or train this one with Embedsmith.`, { setting: 'lora' });
  }
  // --matryoshka: sentence-transformers' MatryoshkaLoss wraps the same loss at the same widths.
  if (s.matryoshka) return { ...loss, matryoshka: { dims: [...s.matryoshka], weights: s.matryoshkaWeights ? [...s.matryoshkaWeights] : s.matryoshka.map(() => 1) } };
  return loss;
}

/** ORG/NAME and commit when the base model lies in a Hugging Face cache (model/hub-cache.ts). */
export function hubOrigin(path: string): { hub_id: string; revision: string } | null {
  const m = /models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]([0-9a-f]{40})(?:[/\\]|$)/.exec(path);
  return m ? { hub_id: `${m[1]}/${m[2]}`, revision: m[3] } : null;
}

export function buildRecipe(s: TrainSettings, o: { madeFrom: string; format: string; negatives: number; evalDuringTraining: boolean | null }): Recipe {
  const modelPrompts = recipePrompts(s);
  const columns = ['anchor', 'positive', ...Array.from({ length: o.negatives }, (_, i) => `negative_${i + 1}`)];
  const prompts: Record<string, string> = {};
  for (const c of columns) {
    const p = c === 'anchor' ? modelPrompts.query : modelPrompts.document;
    if (p !== undefined) prompts[c] = p;
  }
  const during = o.evalDuringTraining === true && s.evalEvery > 0;
  if (during && !metricKeys(DEFAULT_CUTOFFS).includes(s.metric)) {
    throw new EngineError('UNSUPPORTED', `--metric ${s.metric}: sentence-transformers' retrieval evaluator has no such metric to pick the best model by; it has ${metricKeys(DEFAULT_CUTOFFS).join(', ')}. Fix: train with one of those as --metric and export that run.`, { setting: 'metric' });
  }
  const hub = hubOrigin(resolve(s.model));
  return {
    made_from: o.madeFrom,
    base_model: { path: resolve(s.model), hub_id: hub?.hub_id ?? null, revision: hub?.revision ?? null },
    columns,
    prompts: Object.keys(prompts).length ? prompts : null,
    model_prompts: modelPrompts,
    max_seq_length: s.maxLength,
    dropout: s.dropout,
    loss: recipeLoss(s, o.format),
    batch_size: s.batchSize,
    shuffle: s.shuffle,
    warmup: s.warmup,
    // transformers' own defaults where a setting does not apply (a null would override them).
    args: withoutNulls({
      learning_rate: s.lr,
      // Embedsmith's constant schedule warms up too.
      lr_scheduler_type: s.schedule === 'linear' ? 'linear' : 'constant_with_warmup',
      weight_decay: s.weightDecay,
      // transformers clips only when max_grad_norm > 0: 0 is Embedsmith's Infinity (off).
      max_grad_norm: Number.isFinite(s.maxGradNorm) ? s.maxGradNorm : 0,
      num_train_epochs: s.epochs,
      max_steps: s.maxSteps ?? -1,
      seed: s.seed,
      data_seed: s.seed,
      dataloader_drop_last: false,
      optim: 'adamw_torch',
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
      logging_steps: 1,
      report_to: 'none',
      eval_strategy: during ? 'steps' : 'no',
      eval_steps: during ? s.evalEvery : null,
      // Going back to the best evaluation needs a checkpoint at each one.
      save_strategy: during || s.checkpointEvery > 0 ? 'steps' : 'no',
      save_steps: during ? s.evalEvery : s.checkpointEvery > 0 ? s.checkpointEvery : null,
      save_total_limit: s.keepCheckpoints,
      load_best_model_at_end: during,
      metric_for_best_model: during ? `${EVAL_NAME}_cosine_${s.metric}` : null,
      greater_is_better: during ? true : null,
    }),
    eval:
      o.evalDuringTraining === null
        ? null
        : {
            file: 'eval.json',
            name: EVAL_NAME,
            during_training: during,
            cutoffs: { accuracy_at_k: DEFAULT_CUTOFFS.accuracy, precision_recall_at_k: DEFAULT_CUTOFFS.precisionRecall, mrr_at_k: DEFAULT_CUTOFFS.mrr, ndcg_at_k: DEFAULT_CUTOFFS.ndcg, map_at_k: DEFAULT_CUTOFFS.map },
          },
    early_stopping_patience: during ? s.patience : 0,
  };
}

function withoutNulls<T extends Record<string, unknown>>(o: T): Recipe['args'] {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as Recipe['args'];
}

/** The run's templates as sentence-transformers prompts (prefixes only). */
function recipePrompts(s: TrainSettings): Record<string, string> {
  try {
    return templateToPrompts({ query: s.template.query, document: s.template.document, text: '' });
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    throw new EngineError(e.code, `--format recipe: sentence-transformers prompts are prefixes; ${e.message}`, e.details);
  }
}

/** sentence-transformers needs the same columns in every row; Embedsmith masks missing negatives instead. */
function checkNegatives(examples: readonly Example[], dataDir: string): number {
  const n = examples.reduce((m, e) => Math.max(m, e.negatives.length), 0);
  const short = examples.filter((e) => e.negatives.length < n);
  if (short.length) {
    const fewest = short.reduce((m, e) => Math.min(m, e.negatives.length), n);
    throw new EngineError(
      'UNSUPPORTED',
      `${dataDir}: ${short.length} of ${examples.length} training rows have fewer than ${n} negatives (the fewest ${fewest}, first at line ${short[0].line}); sentence-transformers needs the same number in every row, where Embedsmith masks the missing ones. Fix: train with --negatives ${fewest} and export that run, or mine negatives so every row has ${n}.`,
      { setting: 'negatives' },
    );
  }
  return n;
}

/** The retrieval set `embedsmith eval` would search: split.json's eval rows (or all) ask, every row's documents answer. */
export async function irSet(dir: string): Promise<IrSet> {
  const meta = await readDatasetMeta(dir);
  if (meta.format === 'labeled') {
    throw new EngineError('UNSUPPORTED', `${dir} is a labeled dataset; the recipe evaluates retrieval (InformationRetrievalEvaluator) only. Fix: export a run whose --eval is a pairs or triplets dataset, or evaluate output/model with \`embedsmith eval\`.`, { dir });
  }
  const evalRows = existsSync(join(dir, 'split.json')) ? new Set<number>() : null;
  if (evalRows) for await (const { index } of readRowsWithEdits(dir, { split: 'eval', onWarning: () => {} })) evalRows.add(index);
  const corpus: Record<string, string> = {};
  const docId = new Map<string, string>();
  const doc = (text: string): string => {
    let id = docId.get(text);
    if (id === undefined) {
      id = `d${docId.size}`;
      docId.set(text, id);
      corpus[id] = text;
    }
    return id;
  };
  const queries: Record<string, string> = {};
  const relevant: Record<string, string[]> = {};
  // Rows repeating an anchor are one query with their positives merged.
  const byAnchor = new Map<string, string>();
  for await (const { index, row } of readRowsWithEdits(dir, { onWarning: () => {} })) {
    const p = row.positive === undefined ? undefined : doc(row.positive);
    for (const n of row.negatives ?? []) doc(n);
    if ((evalRows && !evalRows.has(index)) || row.anchor === undefined || p === undefined) continue;
    let q = byAnchor.get(row.anchor);
    if (q === undefined) {
      q = `q${byAnchor.size}`;
      byAnchor.set(row.anchor, q);
      queries[q] = row.anchor;
      relevant[q] = [];
    }
    if (!relevant[q].includes(p)) relevant[q].push(p);
  }
  if (byAnchor.size === 0) throw new EngineError('BAD_INPUT', `${dir}: no rows with an anchor and a positive to evaluate. Fix: split with a larger eval fraction, or map the anchor and positive columns.`, { dir });
  return { queries, corpus, relevant_docs: relevant };
}

export interface RecipeResult extends RecipeCounts {
  outDir: string;
  files: string[];
  /** Settings config.json did not hold, taken at their defaults. */
  filled: string[];
}

export async function exportRecipe(runDir: string, outDir: string): Promise<RecipeResult> {
  const { settings, filled } = await readRunSettings(runDir);
  if ((await readdir(outDir).catch(() => [])).length > 0) {
    throw new EngineError('ALREADY_EXISTS', `${outDir} already exists and is not empty; choose a new --out folder for the recipe`, { path: outDir });
  }
  const { examples, meta } = await loadExamples(settings.data, { maxNegatives: settings.negatives ?? undefined });
  recipeLoss(settings, meta.format); // refuses a loss the recipe cannot express before anything else is read
  const negatives = checkNegatives(examples, settings.data);
  // The run's own evaluation (--eval) decides the best model; without one, split.json's eval rows are scored at the end.
  const evalDir = settings.eval ?? (existsSync(join(settings.data, 'split.json')) ? settings.data : null);
  const ir = evalDir ? await irSet(evalDir) : null;
  const recipe = buildRecipe(settings, { madeFrom: resolve(runDir, 'config.json'), format: meta.format, negatives, evalDuringTraining: ir ? settings.eval !== null : null });
  const counts: RecipeCounts = { trainRows: examples.length, negatives, evalQueries: ir ? Object.keys(ir.queries).length : 0, evalCorpus: ir ? Object.keys(ir.corpus).length : 0 };

  const files = ['train.jsonl', 'train.py', 'requirements.txt', 'recipe.json', 'README.md'];
  // Every setting of the table, as the run used it (those config.json lacked at their defaults).
  const resolved = settings as unknown as Record<string, unknown>;
  const config = Object.fromEntries(trainSettingRows().map((r) => [r.key, resolved[r.key]]));
  // Into a temp folder, fsynced, renamed into place: an interrupted export leaves no half recipe.
  await writeDatasetFolder(outDir, async (temp) => {
    await writeJsonl(join(temp, 'train.jsonl'), examples.map((e) => trainRow(e, recipe.columns)));
    if (ir) {
      await writeFile(join(temp, 'eval.json'), JSON.stringify(ir));
      files.splice(1, 0, 'eval.json');
    }
    await writeFile(join(temp, 'train.py'), trainPy(recipe));
    await writeFile(join(temp, 'requirements.txt'), REQUIREMENTS);
    await writeFile(join(temp, 'recipe.json'), JSON.stringify({ schemaVersion: RECIPE_SCHEMA_VERSION, settings: config, filledFromDefaults: filled, recipe, counts }, null, 2) + '\n');
    const unit = resolveLoss(settings.loss, meta.format);
    const note = unit.recipeNote?.(recipe.loss, recipe.batch_size) ?? `${recipe.loss.name} with ${JSON.stringify(recipe.loss.kwargs)}, the ${unit.title} loss the run trained with.`;
    await writeFile(join(temp, 'README.md'), recipeReadme(recipe, counts, note));
  }, [{ path: runDir, what: '--model' }]);
  return { outDir, files, filled, ...counts };
}

function trainRow(e: Example, columns: readonly string[]): Record<string, string> {
  const texts = [e.query, e.positive, ...e.negatives];
  return Object.fromEntries(columns.map((c, i) => [c, texts[i]]));
}

async function writeJsonl(path: string, rows: Iterable<unknown>): Promise<void> {
  const f = await open(path, 'w');
  try {
    let chunk: string[] = [];
    for (const r of rows) {
      chunk.push(JSON.stringify(r));
      if (chunk.length === 2000) {
        await f.write(chunk.join('\n') + '\n');
        chunk = [];
      }
    }
    if (chunk.length) await f.write(chunk.join('\n') + '\n');
  } finally {
    await f.close();
  }
}
