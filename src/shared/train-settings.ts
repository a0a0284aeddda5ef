// Every setting of a training run, declared once (issue 16; DESIGN §6 `embedsmith train`): its
// default, its check, its flag and help line, whether a change blocks --resume, its doc and
// where the Training page shows it. The engine's TrainSettings, defaults and checks, the CLI's
// options, parsing and help, the jobs contract's TrainRequest settings, the Training page's
// checks and its Resume button all read this table. Adding a setting is one row here plus the
// code that uses it. RUN_DIR/config.json holds the settings in this table's order.
import { DEVICE_CHOICES, PRECISION_CHOICES } from './jobs.js';
import { MAX_STEPS, SEED_RANGE, STEPS_WHY, type RangeContext, type SettingRange } from './setting-ranges.js';
import { cliFlag, settingProblem, type SettingRow } from './setting-table.js';

export const SCHEDULE_CHOICES = ['linear', 'constant'] as const;
export const GUIDE_MARGIN_STRATEGIES = ['absolute', 'relative'] as const;

const row = <V>(r: Omit<SettingRow<V>, 'key'>): SettingRow<V> => r as SettingRow<V>;
const MATCH = 'match' as const;
const REPEAT = 'repeat' as const;

const TABLE = {
  eval: row<string | null>({ flag: 'eval', kind: 'path', nullable: true, default: null, arg: 'DATASET_DIR', resume: REPEAT,
    help: "evaluate on this dataset's held-out rows while training", doc: 'Evaluation dataset folder (null: none).' }),
  epochs: row<number>({ flag: 'epochs', kind: 'int', default: 1, resume: MATCH, ui: { label: 'Epochs', group: 'Length', advanced: false },
    range: { min: 1, max: 100_000, integer: true, why: 'the step plan holds every epoch; use --max-steps for long runs' },
    help: 'passes over the training rows', doc: 'Passes over the training rows.' }),
  maxSteps: row<number | null>({ flag: 'max-steps', kind: 'int', nullable: true, default: null, arg: 'N', resume: MATCH, ui: { label: 'Max steps', group: 'Length', advanced: false, placeholder: 'whole epochs', hint: 'Blank: whole epochs. Set, it wins over epochs (the data repeats).' },
    range: { min: 1, max: MAX_STEPS, integer: true, why: STEPS_WHY },
    help: 'stop after N steps; wins over --epochs (the data repeats)', doc: 'Takes precedence over epochs; data repeats epoch after epoch (null: whole epochs).' }),
  batchSize: row<number>({ flag: 'batch-size', kind: 'int', default: 32, resume: MATCH, ui: { label: 'Batch size', group: 'Length', advanced: false, hint: 'Queries per step; each query’s candidates are every text in the batch, so bigger batches teach more.' },
    range: { min: 1, max: 65_536, integer: true, why: 'a step graph holds batch × texts × length activations; beyond this no device has the memory (use --grad-cache for large batches)' },
    help: 'queries per step', doc: 'Queries per step; every text in the batch is a candidate for each query.' }),
  lr: row<number>({ flag: 'lr', kind: 'number', default: 2e-5, defaultFrom: 'model', arg: 'R', example: '2e-5', resume: MATCH, ui: { label: 'Learning rate', group: 'Optimiser', advanced: false, hint: 'Peak rate after warmup, then a linear decay to 0.' },
    range: { min: 0, minExclusive: true, max: 1, why: 'AdamW moves each weight by about lr per step; above 1 every step overwrites the weights (typical: 1e-6 to 1e-3)' },
    help: 'peak learning rate (default by model width: 2e-5 from 768 wide … 2e-3 below 128)', doc: 'Peak learning rate after warmup.' }),
  warmup: row<number>({ flag: 'warmup', kind: 'number', default: 0.1, resume: MATCH, ui: { label: 'Warmup', group: 'Optimiser', advanced: false, hint: 'Below 1: a fraction of the run; 1 or more: steps.' },
    range: { min: 0, max: MAX_STEPS, why: 'a fraction of the run (below 1) or a number of steps' },
    help: 'below 1: a fraction of the run; 1 or more: steps', doc: 'Fraction of the run (< 1) or a number of steps.' }),
  schedule: row<(typeof SCHEDULE_CHOICES)[number]>({ flag: 'schedule', kind: 'choice', choices: SCHEDULE_CHOICES, default: 'linear', resume: MATCH, ui: { label: 'Schedule', group: 'Optimiser', advanced: true },
    help: 'after warmup: linear decay to 0, or constant', doc: 'The learning rate after warmup.' }),
  weightDecay: row<number>({ flag: 'weight-decay', kind: 'number', default: 0.01, resume: MATCH, ui: { label: 'Weight decay', group: 'Optimiser', advanced: true },
    range: { min: 0, max: 10, why: 'decoupled decay multiplies weights by 1 − lr·wd each step; beyond 10 it erases them at any usable rate (typical: 0 to 0.1)' },
    help: "AdamW's decoupled weight decay (not on biases and LayerNorm)", doc: "AdamW's decoupled weight decay." }),
  temperature: row<number>({ flag: 'temperature', kind: 'number', default: 0.05, resume: MATCH, ui: { label: 'Temperature', group: 'Loss', advanced: true },
    range: { min: 0.001, max: 10, why: 'logits are cosine / temperature: below 0.001 exp() overflows float32, above 10 every pair scores alike (typical: 0.01 to 0.1)' },
    help: 'cosine similarities are divided by this', doc: "Cosine similarities are divided by this (0.05 = sentence-transformers' scale 20)." }),
  maxLength: row<number>({ flag: 'max-length', kind: 'int', default: 128, defaultFrom: 'model', arg: 'N', resume: MATCH, ui: { label: 'Max length', group: 'Length', advanced: false, hint: 'Tokens per text; longer texts are cut. Memory grows with it.' },
    range: { min: 3, max: 32_768, integer: true, why: '[CLS] text [SEP] needs 3 tokens; no supported model has more positions than this' },
    help: "tokens per text, special tokens included (default: the model's max_seq_length)", doc: 'Tokens per text, special tokens included.' }),
  dropout: row<number | null>({ flag: 'dropout', kind: 'number', nullable: true, nullWords: ['FROM_CONFIG', 'config'], default: null, arg: 'FROM_CONFIG|P', resume: MATCH,
    ui: { label: 'Dropout', group: 'Model', advanced: true }, range: { min: 0, max: 0.99, why: 'a probability; 1 would drop everything' },
    help: "dropout probability everywhere (FROM_CONFIG: the model config's own)", doc: "Dropout probability everywhere, or null for the model config's own." }),
  seed: row<number>({ flag: 'seed', kind: 'int', default: 42, resume: MATCH, ui: { label: 'Seed', group: 'Length', advanced: false, hint: 'Same seed, data and settings: the same run, step for step.' }, range: SEED_RANGE,
    help: 'the same seed, data and settings give the same run', doc: 'Seeds the order, dropout and sampling.' }),
  shuffle: row<boolean>({ flag: 'shuffle', kind: 'boolean', default: true, resume: MATCH, ui: { label: 'Shuffle the rows each epoch', group: 'Length', advanced: true },
    help: 'keep the rows in file order', doc: 'Shuffle the training rows each epoch.' }),
  negatives: row<number | null>({ flag: 'negatives', kind: 'int', nullable: true, default: null, arg: 'N', resume: MATCH, ui: { label: 'Hard negatives per query', group: 'Loss', advanced: true },
    range: { min: 0, max: 1024, integer: true, why: 'each negative is one more text per query in every step' },
    help: 'mined negatives per query used per step (default: all the data has)', doc: 'Hard negatives per query used per step (null: as many as the data has).' }),
  maxGradNorm: row<number>({ flag: 'max-grad-norm', kind: 'number', default: 1.0, resume: MATCH, ui: { label: 'Gradient clipping norm', group: 'Optimiser', advanced: true },
    range: { min: 0, minExclusive: true, max: Infinity, infinityAllowed: true, why: 'global-norm clipping threshold; Infinity turns clipping off' },
    help: 'global-norm gradient clipping (Infinity: off)', doc: 'Global-norm clipping threshold (torch semantics); Infinity: off (stored as null in JSON).' }),
  evalEvery: row<number>({ flag: 'eval-every', kind: 'int', default: 0, arg: 'N', resume: REPEAT, ui: { label: 'Evaluate every (steps)', group: 'Evaluation', advanced: false },
    range: { min: 0, max: MAX_STEPS, integer: true, why: 'in steps; 0 evaluates only at the end' },
    help: 'evaluate every N steps (0: only at the end)', doc: 'Evaluate every N steps (0: only at the end).' }),
  metric: row<string>({ flag: 'metric', kind: 'text', default: 'ndcg@10', resume: REPEAT, ui: { label: 'Metric', group: 'Evaluation', advanced: true },
    help: 'the metric that picks the best model and drives early stopping', doc: 'Metric that picks the best model and drives early stopping.' }),
  patience: row<number>({ flag: 'patience', kind: 'int', default: 0, arg: 'N', resume: REPEAT, ui: { label: 'Patience (evaluations)', group: 'Evaluation', advanced: true },
    range: { min: 0, max: 1_000_000, integer: true, why: 'evaluations without improvement; 0 never stops early' },
    help: 'stop after N evaluations without improvement (0: never)', doc: 'Stop after this many evaluations without improvement (0: never).' }),
  checkpointEvery: row<number>({ flag: 'checkpoint-every', kind: 'int', default: 0, arg: 'N', resume: REPEAT, ui: { label: 'Checkpoint every (steps)', group: 'Checkpoints', advanced: false, hint: '0: only at the end and when stopped (Stop always writes one).' },
    range: { min: 0, max: MAX_STEPS, integer: true, why: 'in steps; 0 checkpoints only at the end' },
    help: 'checkpoint every N steps (0: only at the end and when stopped)', doc: 'Checkpoint every N steps (0: only at the end).' }),
  keepCheckpoints: row<number>({ flag: 'keep-checkpoints', kind: 'int', default: 2, resume: REPEAT, ui: { label: 'Checkpoints kept', group: 'Checkpoints', advanced: true },
    range: { min: 1, max: 1000, integer: true, why: 'each checkpoint holds the weights and both AdamW moments (3 × the model) on disk' },
    help: 'the newest checkpoints kept on disk', doc: 'The newest checkpoints kept on disk.' }),
  device: row<(typeof DEVICE_CHOICES)[number]>({ flag: 'device', kind: 'choice', choices: DEVICE_CHOICES, default: 'auto', resume: REPEAT, ui: { label: 'Device', group: 'Device', advanced: false, hint: 'Automatic tries CUDA, then WebGPU, then the CPU.', choiceLabels: { auto: 'Automatic', cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA' } },
    help: 'auto tries CUDA, then WebGPU, then the CPU', doc: 'Which device trains.' }),
  precision: row<(typeof PRECISION_CHOICES)[number]>({ flag: 'precision', kind: 'choice', choices: PRECISION_CHOICES, default: 'fp32', resume: MATCH, ui: { label: 'Precision', group: 'Device', advanced: false, hint: 'fp16 needs a GPU with shader-f16; Automatic takes it there, fp32 elsewhere.', choiceLabels: { fp16: 'fp16 (mixed)', auto: 'Automatic' } },
    help: 'fp16: mixed precision; auto: fp16 on WebGPU with shader-f16', doc: 'fp16: float16 activations and matmuls with a dynamic loss scale; auto: fp16 on WebGPU with shader-f16.' }),
  // A word, not a choice: the losses are the engine's registry (engine/train/losses/index.ts),
  // which checks the name and gives the CLI its list; the page gets them through EngineInfo.losses.
  loss: row<string>({ flag: 'loss', kind: 'text', default: 'auto', arg: 'auto|LOSS', resume: MATCH, ui: { label: 'Loss', group: 'Loss', advanced: true },
    help: "auto: the loss the data's format calls for; or one of the losses listed below", doc: "'auto' (the loss the dataset's format calls for) or a loss name of the engine's registry." }),
  symmetric: row<boolean>({ flag: 'symmetric', kind: 'boolean', default: false, resume: MATCH, ui: { label: 'Symmetric InfoNCE', group: 'Loss', advanced: true },
    help: 'InfoNCE both ways (queries → documents and positives → queries)', doc: 'InfoNCE both ways (queries → documents and positives → queries).' }),
  learnTemperature: row<boolean>({ flag: 'learn-temperature', kind: 'boolean', default: false, resume: MATCH, ui: { label: 'Learn the temperature', group: 'Loss', advanced: true },
    help: "learn the temperature from --temperature, as CLIP's logit scale (capped at 1/100)", doc: "Learn the temperature (starting at `temperature`), as CLIP's logit scale; capped at 1/100." }),
  gradCacheRows: row<number | null>({ flag: 'grad-cache', kind: 'int', nullable: true, default: null, arg: 'ROWS', resume: MATCH, ui: { label: 'Gradient cache (rows per chunk)', group: 'Memory', advanced: true },
    range: { min: 1, max: 65_536, integer: true, why: 'rows per chunk; at most the batch' },
    help: 'embed the batch in chunks of ROWS (a big batch in the memory of a small one)',
    doc: 'Gradient caching (Gao et al. 2021): embed in chunks, take the loss gradient w.r.t. the embeddings, backpropagate chunk by chunk; the same result (null: off).' }),
  matryoshka: row<number[] | null>({ flag: 'matryoshka', kind: 'numbers', nullable: true, default: null, arg: '256,128,64', example: '256,128,64', resume: MATCH, ui: { label: 'Matryoshka widths', group: 'Loss', advanced: true },
    range: { min: 1, max: 65_536, integer: true, why: 'a width is a prefix of the embedding' },
    check: (v) => (new Set(v).size !== v!.length ? `${v!.join(',')} lists a width twice; give each once` : null),
    help: 'sum the loss over these prefix widths (embed --dims N keeps quality at N)',
    doc: 'Matryoshka widths (Kusupati et al. 2022): the loss summed over these prefix widths, each re-normalised (null: off).' }),
  matryoshkaWeights: row<number[] | null>({ flag: 'matryoshka-weights', kind: 'numbers', nullable: true, default: null, arg: '1,1,1', example: '1,1,1', resume: MATCH, ui: { label: 'Matryoshka weights', group: 'Loss', advanced: true },
    range: { min: 0, minExclusive: true, max: Infinity, why: 'weights are relative; each must be positive and finite' },
    help: 'one weight per --matryoshka width (default: 1 each)', doc: 'One weight per Matryoshka width (null: 1 each, as sentence-transformers).' }),
  guide: row<string | null>({ flag: 'guide', kind: 'text', nullable: true, default: null, arg: 'base|MODEL_DIR', resume: MATCH, ui: { label: 'Guide model (GISTEmbed)', group: 'Loss', advanced: true },
    help: "a guide model ('base': the base model frozen) drops in-batch negatives it scores above the positive",
    doc: "Guide model for in-batch negatives (GISTEmbed): a model folder, or 'base' for the base model frozen (null: off)." }),
  guideMargin: row<number>({ flag: 'guide-margin', kind: 'number', default: 0, resume: MATCH, ui: { label: 'Guide margin', group: 'Loss', advanced: true },
    check: (v) => (v >= 0 && v < 1 ? null : `${v} must be a number in [0, 1), e.g. 0 or 0.05`),
    help: "GISTEmbedLoss' margin", doc: "GISTEmbedLoss' margin: absolute masks s > s⁺ − margin, relative s > s⁺·(1 − margin)." }),
  guideMarginStrategy: row<(typeof GUIDE_MARGIN_STRATEGIES)[number]>({ flag: 'guide-margin-strategy', kind: 'choice', choices: GUIDE_MARGIN_STRATEGIES, default: 'absolute', resume: MATCH,
    ui: { label: 'Guide margin strategy', group: 'Loss', advanced: true }, help: 'how the guide margin applies', doc: 'absolute: s > s⁺ − margin; relative: s > s⁺·(1 − margin).' }),
  lora: row<number | null>({ flag: 'lora', kind: 'int', nullable: true, default: null, arg: 'R', resume: MATCH, ui: { label: 'LoRA rank', group: 'LoRA', advanced: true },
    range: { min: 1, max: 4096, integer: true, why: "the adapters' rank; it cannot exceed a layer's width, and no supported model is wider than 4096 (typical: 8 to 64)" },
    help: 'train low-rank adapters of rank R instead of every weight', doc: 'LoRA rank r (nn/lora-step.ts): only adapters train, merged into the weights on save (null: full fine-tuning).' }),
  loraAlpha: row<number | null>({ flag: 'lora-alpha', kind: 'number', nullable: true, default: null, arg: 'ALPHA', resume: MATCH, ui: { label: 'LoRA alpha', group: 'LoRA', advanced: true },
    range: { min: 0, minExclusive: true, max: 1_000_000, why: 'the update is scaled by alpha / r (typical: r to 2·r)' },
    help: "the adapters' update is scaled by alpha / R (default: 2·R)", doc: "The adapters' update is scaled by alpha / r (null: 2·r)." }),
  loraDropout: row<number>({ flag: 'lora-dropout', kind: 'number', default: 0, resume: MATCH, range: { min: 0, max: 0.99, why: 'a probability; 1 would drop everything' },
    help: "adapter dropout (only PEFT's default 0 is supported)", doc: "Adapter dropout; only 0 (PEFT's default) is supported." }),
  loraTargets: row<string[] | null>({ flag: 'lora-targets', kind: 'names', nullable: true, default: null, arg: 'NAME,…', example: 'query,key,value,dense', resume: MATCH, ui: { label: 'LoRA targets', group: 'LoRA', advanced: true },
    check: (v) => (v!.every((t) => /^[\w-]+$/.test(t)) ? null : `${JSON.stringify(v)}: give module names separated by commas, e.g. query,key,value,dense`),
    help: "module names that get adapters (default: every linear of a layer)", doc: "Module names that get adapters (the family's own key names); null: every linear of a layer." }),
  // The request's own fields (TrainRequest.model / dataset) and the engine's machine: not request settings.
  model: row<string>({ flag: 'model', kind: 'path', defaultFrom: 'required', arg: 'MODEL_DIR', resume: MATCH, request: false, help: 'the base model folder', doc: 'Base model folder.' }),
  data: row<string>({ flag: 'data', kind: 'path', defaultFrom: 'required', arg: 'DATASET_DIR', resume: MATCH, request: false,
    help: 'the training dataset folder', doc: "Training dataset folder (split.json's eval rows are held out)." }),
  template: row<{ query: string; document: string }>({ flag: 'template', kind: 'template', defaultFrom: 'model', arg: 'PRESET|SAVED_NAME', resume: MATCH,
    help: "instruction template: a preset or one saved in the project (default: the model's own prompts)",
    doc: "Instruction templates by role; empty strings mean the model's own prompts are not used either." }),
  threads: row<number>({ flag: 'threads', kind: 'int', defaultFrom: 'machine', arg: 'N', resume: MATCH, request: false,
    // onnxruntime runs one intra-op thread per thread asked: beyond the cores they only take
    // turns (1000 threads never finished a step). 4 × cores leaves room for a run recorded on a
    // bigger machine (threads are part of bit-exact resume); 16 at least, for small laptops.
    range: { min: 1, max: (ctx: RangeContext) => Math.max(16, 4 * ctx.cores), integer: true, why: "more threads than cores only take turns: 1000 never finished a step; the cap is 4 × this machine's cores (16 at least)" },
    help: 'CPU threads (results are bit-exact only for the same count)', doc: 'CPU threads (recorded: results are bit-exact only for the same count).' }),
};

type ValueOf<R> = R extends SettingRow<infer V> ? V : never;

/** A training run's settings, resolved to values: RUN_DIR/config.json holds exactly this object. */
export type TrainSettingValues = { [K in keyof typeof TABLE]: ValueOf<(typeof TABLE)[K]> };
export type TrainSettingKey = keyof TrainSettingValues;
/** The settings without a fixed default: required, or the model's or the machine's. */
export type UndefaultedSetting = 'model' | 'data' | 'threads' | 'template';
/** The settings a TrainRequest may carry (the rest are its own fields or the engine's). */
export type TrainRequestSettings = Partial<Omit<TrainSettingValues, 'model' | 'data' | 'threads'>>;

/** The train command's own flags beside the settings (where the run goes, how it starts): no setting may take them. */
export const TRAIN_COMMAND_FLAGS = ['out', 'resume', 'no-general-eval', 'help'] as const;

const STATIC_ROWS: readonly SettingRow[] = Object.entries(TABLE).map(([key, r]) => ({ ...(r as SettingRow), key }));
const registered: SettingRow[] = [];

/** Every row: the table's, then those registered at run time (in registration order). */
export function trainSettingRows(): readonly SettingRow[] {
  return registered.length ? [...STATIC_ROWS, ...registered] : STATIC_ROWS;
}

export function trainSettingRow(key: string): SettingRow | undefined {
  return trainSettingRows().find((r) => r.key === key);
}

/**
 * Adds a row at run time (a plug-in's setting, a test's dummy): it is parsed, checked, shown in
 * help and on the page, and written to config.json like the table's own. Returns its removal.
 */
export function registerTrainSetting<V>(r: SettingRow<V>): () => void {
  const added = r as SettingRow;
  const rows = trainSettingRows();
  if (rows.some((x) => x.key === added.key)) throw new Error(`a training setting '${added.key}' exists already`);
  const flags = [...rows.map(cliFlag), ...TRAIN_COMMAND_FLAGS];
  if (flags.includes(added.flag) || flags.includes(cliFlag(added))) throw new Error(`the flag --${cliFlag(added)} is taken by another training setting or the train command`);
  if (added.default === undefined && !added.defaultFrom) throw new Error(`setting '${added.key}' needs a default`);
  const problem = added.default === undefined ? null : settingProblem(added, added.default, { cores: 1 });
  if (problem) throw new Error(`setting '${added.key}': its default is refused by its own check: ${problem}`);
  registered.push(added);
  return () => {
    const i = registered.indexOf(added);
    if (i >= 0) registered.splice(i, 1);
  };
}

function defaultsOf(rows: readonly SettingRow[]): Record<string, unknown> {
  return Object.fromEntries(rows.filter((r) => r.default !== undefined).map((r) => [r.key, r.default]));
}

/** The fixed defaults of the table's settings (typed; the model- and machine-dependent ones apart). */
export const TRAIN_SETTING_DEFAULTS = defaultsOf(STATIC_ROWS) as Omit<TrainSettingValues, UndefaultedSetting>;

/** The fixed defaults of every row, registered ones included. */
export function trainDefaults(): Omit<TrainSettingValues, UndefaultedSetting> & Record<string, unknown> {
  return defaultsOf(trainSettingRows()) as Omit<TrainSettingValues, UndefaultedSetting> & Record<string, unknown>;
}

/** Settings --resume must repeat exactly (the engine refuses otherwise). */
export function resumeMatchedKeys(): string[] {
  return trainSettingRows().filter((r) => r.resume === 'match').map((r) => r.key);
}

/** What the app's Resume button takes from config.json: every request setting. */
export function resumeRepeatedKeys(): string[] {
  return trainSettingRows().filter((r) => r.request !== false).map((r) => r.key);
}

/** The documented range of each numeric training setting (setting-ranges.ts' shape). */
export function trainRanges(): Record<string, SettingRange> {
  return Object.fromEntries(trainSettingRows().filter((r) => r.range).map((r) => [r.key, { flag: r.flag, ...r.range! }]));
}

/**
 * Settings read back from JSON (config.json, a web request): JSON has no Infinity, so a setting
 * that allows it (--max-grad-norm Infinity: clipping off) and is not nullable reads null as Infinity.
 */
export function settingsFromJson<T extends Record<string, unknown>>(raw: T): T {
  const out: Record<string, unknown> = { ...raw };
  for (const r of trainSettingRows()) if (out[r.key] === null && !r.nullable && r.range?.infinityAllowed) out[r.key] = Infinity;
  return out as T;
}
