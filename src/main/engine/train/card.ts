// The model card (README.md) of a trained model, as sentence-transformers writes one for a
// fine-tuned model: what it was trained from and on, with which template, loss and settings,
// how it scored before and after, the command that makes it again, and the licences that apply.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { rolePrompt } from '../model/embed.js';
import type { ModelCardInfo } from '../model/model-card.js';
import type { LoadedModel } from '../model/load.js';
import { ONNXRUNTIME_VERSION } from '../runtime/index.js';
import { ENGINE_VERSION } from '../version.js';
import type { RunPlan } from './plan.js';
import { cliFlag, settingWord, type SettingRow } from '../../../shared/setting-table.js';
import { trainSettingRows } from '../../../shared/train-settings.js';
import type { TrainSettings } from './settings.js';

/** 'org/name' for a Hugging Face cache snapshot (…/models--org--name/snapshots/…), else the folder as given. */
export function baseModelName(dir: string): string {
  const m = /models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]/.exec(dir);
  return m ? `${m[1]}/${m[2]}` : dir;
}

/** The `license:` of a model card's YAML front matter, when there is one. */
async function cardLicense(modelDir: string): Promise<string | null> {
  const md = await readFile(join(modelDir, 'README.md'), 'utf8').catch(() => '');
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(md);
  const lic = front && /^license:\s*["']?([^"'\r\n]+)["']?\s*$/m.exec(front[1]);
  return lic ? lic[1].trim() : null;
}

/**
 * `embedsmith train` with every setting that shapes the numbers spelt out (the table's
 * resume-matched rows; a switch only when it is not at its default, null ones by their absence)
 * and the others where they differ from the default. `ownTemplate` is the base model's own
 * prompts (what the command uses without --template).
 */
export function reproduceCommand(s: TrainSettings, runDir: string, ownTemplate: TrainSettings['template'] = s.template): string {
  const q = (v: string) => (/^[\w./@:=,+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const values = s as unknown as Record<string, unknown>;
  const parts = ['embedsmith train', `--model ${q(s.model)}`, `--data ${q(s.data)}`, `--out ${q(runDir)}`];
  const rows = trainSettingRows().filter((r) => r.defaultFrom !== 'required' && r.kind !== 'template' && values[r.key] !== null && values[r.key] !== undefined);
  const atDefault = (r: SettingRow) => JSON.stringify(values[r.key]) === JSON.stringify(r.default);
  // --max-steps wins over --epochs: a default epoch count beside it is left out, as people write it.
  const shown = (r: SettingRow) => (r.resume === 'match' ? !(r.key === 'epochs' && s.maxSteps !== null && atDefault(r)) : !atDefault(r));
  for (const row of [...rows.filter((r) => r.resume === 'match'), ...rows.filter((r) => r.resume !== 'match')]) {
    if (row.kind === 'boolean') {
      if (!atDefault(row)) parts.push(`--${cliFlag(row)}`);
    } else if (shown(row)) parts.push(`--${row.flag} ${q(settingWord(row, values[row.key]))}`);
  }
  const own = s.template.query === ownTemplate.query && s.template.document === ownTemplate.document;
  if (!own && s.template.query === '' && s.template.document === '') parts.push('--template none');
  else if (!own) parts.push('--template NAME   # a template saved with the queries and documents prompts above (Templates page)');
  return parts.join(' \\\n  ');
}

export interface TrainCardInput {
  settings: TrainSettings;
  runDir: string;
  loaded: LoadedModel;
  plan: Pick<RunPlan, 'examples' | 'heldOut' | 'meta' | 'loss' | 'negativesPerQuery'>;
  steps: number;
  /** Evaluation of the base model (before) and of the saved parameters (after), when the run evaluated. */
  before?: Record<string, number>;
  after?: Record<string, number>;
  prompts: Record<string, string>;
}

export async function trainCard(c: TrainCardInput): Promise<ModelCardInfo> {
  const s = c.settings;
  const { meta } = c.plan;
  const license = await cardLicense(c.loaded.dir);
  const metrics: ModelCardInfo['metrics'] = {};
  if (c.before && c.after) {
    for (const k of Object.keys(c.after)) if (c.before[k] !== undefined) metrics[k] = { before: c.before[k], after: c.after[k] };
  }
  // Only a loss that scores mined negatives has N > 0 (LossUnit.negativesPerQuery).
  const negatives = c.plan.negativesPerQuery > 0 ? `, plus ${c.plan.negativesPerQuery} hard negative(s) per query from every query in the batch` : '';
  return {
    baseModel: baseModelName(c.loaded.dir),
    title: `${basename(baseModelName(c.loaded.dir))} fine-tuned on ${basename(s.data)} with Embedsmith`,
    data: {
      name: basename(s.data),
      rows: c.plan.examples.length,
      format: meta.format,
      negativesPerRow: c.plan.negativesPerQuery > 0 ? c.plan.negativesPerQuery : undefined,
      description: `${c.plan.examples.length} training rows from ${s.data}${c.plan.heldOut ? `; ${c.plan.heldOut} rows held out for evaluation (split.json)` : ''}.`,
    },
    settings: {
      steps: c.steps, epochs: s.maxSteps !== null ? null : s.epochs, max_steps: s.maxSteps, batch_size: s.batchSize, lr: s.lr, warmup: s.warmup, schedule: s.schedule,
      weight_decay: s.weightDecay, temperature: s.temperature, max_length: s.maxLength, dropout: s.dropout ?? 'from config.json', max_grad_norm: s.maxGradNorm,
      shuffle: s.shuffle, symmetric: s.symmetric, learn_temperature: s.learnTemperature, grad_cache_rows: s.gradCacheRows,
      matryoshka: s.matryoshka?.join(',') ?? null, guide: s.guide, device: s.device, threads: s.threads,
    },
    metrics: Object.keys(metrics).length ? metrics : undefined,
    metricsNote: s.eval ? `On ${s.eval} (its held-out split.json rows when it has one), before training and for the saved parameters${s.metric ? ` (best by ${s.metric})` : ''}.` : undefined,
    seed: s.seed,
    versions: { embedsmith: ENGINE_VERSION, 'onnxruntime-node': ONNXRUNTIME_VERSION, node: process.versions.node },
    license: license ?? undefined,
    pooling: c.loaded.sentence.pooling,
    normalize: c.loaded.sentence.normalize,
    maxSeqLength: s.maxLength,
    prompts: c.prompts,
    template: s.template,
    loss: `${c.plan.loss.card}${negatives}; temperature ${s.temperature}${s.symmetric ? ', both directions' : ''}.`,
    command: reproduceCommand(s, c.runDir, { query: rolePrompt(c.loaded.sentence, 'query'), document: rolePrompt(c.loaded.sentence, 'document') }),
    licenses: [
      `Base model \`${baseModelName(c.loaded.dir)}\`: ${license ? `${license} (its README.md)` : 'its card states no licence here; check where the model came from'}. A fine-tuned model is a derivative of it.`,
      `Training data \`${s.data}\`: under the terms its owner gave it; Embedsmith does not know them.`,
      `Embedsmith (the software that trained it): Apache-2.0.`,
    ],
  };
}
