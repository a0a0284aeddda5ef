// `embedsmith train --model MODEL_DIR --data DATASET_DIR --out RUN_DIR [options]` (DESIGN §6):
// flags → TrainSettings (train/settings.ts) → trainRun. Ctrl-C stops after the running step
// and writes a checkpoint; `--resume` continues it exactly.
import { availableParallelism } from 'node:os';
import { TRAIN_RANGES, rangeText, type SettingRange } from '../../../../shared/setting-ranges.js';
import { templateByName } from '../../data/templates.js';
import type { DevicePref } from '../../runtime/index.js';
import { type Searcher, createSearcher } from '../../search/search.js';
import { describeGeneral, guardForgetting } from '../../eval/general.js';
import { trainingEvaluator } from '../../train/evaluator.js';
import { type Evaluate, trainRun } from '../../train/run.js';
import { TRAIN_DEFAULTS, type TrainSettings, modelTemplate } from '../../train/settings.js';
import { modelTrainDefaults, readModelLimits } from '../../train/model-defaults.js';
import { projectHolding } from '../../workspace/project.js';
import { type Out, UsageError, parseOptions, precisionOption, reportError } from './common.js';

export const TRAIN_USAGE =
  'usage: embedsmith train --model MODEL_DIR --data DATASET_DIR --out RUN_DIR [--epochs 1] [--max-steps N] [--batch-size 32] ' +
  '[--lr R (default by model width: 2e-5 from 768 wide … 2e-3 below 128)] [--warmup 0.1] [--schedule linear|constant] [--weight-decay 0.01] [--temperature 0.05] ' +
  "[--max-length N (default: the model's max_seq_length)] " +
  '[--dropout FROM_CONFIG|P] [--seed 42] [--no-shuffle] [--negatives N] [--template PRESET|SAVED_NAME] [--eval DATASET_DIR] [--eval-every N] ' +
  '[--metric ndcg@10] [--patience N] [--checkpoint-every N] [--keep-checkpoints 2] [--resume] [--device auto|cpu|webgpu|cuda] [--precision fp32|fp16|auto] [--threads N] ' +
  '[--loss auto|infonce|supcon|cosent] [--symmetric] [--learn-temperature] [--grad-cache ROWS] [--matryoshka 256,128,64 [--matryoshka-weights 1,1,1]] [--guide base|MODEL_DIR [--guide-margin 0] [--guide-margin-strategy absolute|relative]] [--lora R [--lora-alpha 2R] [--lora-targets NAME,…]] [--no-general-eval]';

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  epochs: { type: 'string' },
  'max-steps': { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  schedule: { type: 'string' },
  'weight-decay': { type: 'string' },
  temperature: { type: 'string' },
  'max-length': { type: 'string' },
  dropout: { type: 'string' },
  seed: { type: 'string' },
  'no-shuffle': { type: 'boolean' },
  negatives: { type: 'string' },
  template: { type: 'string' },
  eval: { type: 'string' },
  'eval-every': { type: 'string' },
  metric: { type: 'string' },
  patience: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'keep-checkpoints': { type: 'string' },
  'max-grad-norm': { type: 'string' },
  resume: { type: 'boolean' },
  device: { type: 'string' },
  precision: { type: 'string' },
  threads: { type: 'string' },
  loss: { type: 'string' },
  symmetric: { type: 'boolean' },
  'learn-temperature': { type: 'boolean' },
  'grad-cache': { type: 'string' },
  matryoshka: { type: 'string' },
  'matryoshka-weights': { type: 'string' },
  'no-general-eval': { type: 'boolean' },
  guide: { type: 'string' },
  'guide-margin': { type: 'string' },
  'guide-margin-strategy': { type: 'string' },
  lora: { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-dropout': { type: 'string' },
  'lora-targets': { type: 'string' },
} as const;

/** A comma-separated list of numbers, or null when the flag is absent. */
function numList(name: string, v: string | undefined): number[] | null {
  if (v === undefined) return null;
  return v.split(',').map((x) => num(name, x.trim(), 0));
}

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) {
    const range = (Object.values(TRAIN_RANGES) as SettingRange[]).find((r) => r.flag === name);
    throw new UsageError(`--${name} must be a number${range ? ` in ${rangeText(range, { cores: availableParallelism() })}` : ''}, got '${v}'`);
  }
  return n;
}

/** Flags → settings; `evaluate` comes from the caller (the eval set needs the engine's embedder). */
export async function trainSettingsFromArgs(args: string[]): Promise<{ settings: TrainSettings; resume: boolean; out: string; generalEval: boolean }> {
  const v = parseOptions(args, OPTIONS);
  if (!v.model || !v.data || !v.out) throw new UsageError('--model, --data and --out are required');
  const device = v.device ?? 'auto';
  if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu, webgpu or cuda, got '${device}'`);
  const schedule = v.schedule ?? 'linear';
  if (schedule !== 'linear' && schedule !== 'constant') throw new UsageError(`--schedule must be linear or constant, got '${schedule}'`);
  const dropout = v.dropout === undefined || v.dropout === 'FROM_CONFIG' || v.dropout === 'config' ? null : num('dropout', v.dropout, 0);
  let template: TrainSettings['template'];
  if (v.template !== undefined) {
    // A preset, or a template saved in the project the data (else the run) lies in.
    const project = (await projectHolding(v.data)) ?? (await projectHolding(v.out));
    const t = await templateByName(v.template, project);
    template = { query: t.query, document: t.document };
  } else {
    template = await modelTemplate(v.model);
  }
  const d = TRAIN_DEFAULTS;
  // Length and learning rate follow the base model unless given (issue 15 §1–2).
  const own = modelTrainDefaults(await readModelLimits(v.model));
  const maxSteps = v['max-steps'] === undefined ? null : num('max-steps', v['max-steps'], 0);
  const settings: TrainSettings = {
    ...d,
    model: v.model,
    data: v.data,
    eval: v.eval ?? null,
    epochs: num('epochs', v.epochs, d.epochs),
    maxSteps,
    batchSize: num('batch-size', v['batch-size'], d.batchSize),
    lr: num('lr', v.lr, own.lr),
    warmup: num('warmup', v.warmup, d.warmup),
    schedule,
    weightDecay: num('weight-decay', v['weight-decay'], d.weightDecay),
    temperature: num('temperature', v.temperature, d.temperature),
    maxLength: num('max-length', v['max-length'], own.maxLength),
    dropout,
    seed: num('seed', v.seed, d.seed),
    shuffle: !v['no-shuffle'],
    negatives: v.negatives === undefined ? null : num('negatives', v.negatives, 0),
    maxGradNorm: num('max-grad-norm', v['max-grad-norm'], d.maxGradNorm),
    evalEvery: num('eval-every', v['eval-every'], d.evalEvery),
    metric: v.metric ?? d.metric,
    patience: num('patience', v.patience, d.patience),
    checkpointEvery: num('checkpoint-every', v['checkpoint-every'], d.checkpointEvery),
    keepCheckpoints: num('keep-checkpoints', v['keep-checkpoints'], d.keepCheckpoints),
    device: device as DevicePref,
    precision: precisionOption(v.precision),
    template,
    threads: num('threads', v.threads, availableParallelism()),
    loss: (v.loss ?? 'auto') as TrainSettings['loss'],
    symmetric: v.symmetric === true,
    learnTemperature: v['learn-temperature'] === true,
    gradCacheRows: v['grad-cache'] === undefined ? null : num('grad-cache', v['grad-cache'], 0),
    matryoshka: numList('matryoshka', v.matryoshka),
    matryoshkaWeights: numList('matryoshka-weights', v['matryoshka-weights']),
    guide: v.guide ?? null,
    guideMargin: num('guide-margin', v['guide-margin'], d.guideMargin),
    guideMarginStrategy: (v['guide-margin-strategy'] ?? d.guideMarginStrategy) as TrainSettings['guideMarginStrategy'],
    lora: v.lora === undefined ? null : num('lora', v.lora, 0),
    loraAlpha: v['lora-alpha'] === undefined ? null : num('lora-alpha', v['lora-alpha'], 0),
    loraDropout: num('lora-dropout', v['lora-dropout'], d.loraDropout),
    loraTargets: v['lora-targets'] === undefined ? null : v['lora-targets'].split(',').map((t) => t.trim()),
  };
  return { settings, resume: v.resume === true, out: v.out, generalEval: v['no-general-eval'] !== true };
}

export async function trainCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  let searcher: Searcher | null = null;
  const onSigint = () => {
    out.error('embedsmith train: stopping after this step (Ctrl-C again to kill; the last checkpoint stays)…');
    ctl.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  try {
    const { settings, resume, out: runDir, generalEval } = await trainSettingsFromArgs(args);
    // The eval set's k-NN search runs on the CPU: it is small next to the training steps.
    searcher = settings.eval ? createSearcher({ device: 'cpu' }) : null;
    const evaluate: Evaluate | undefined = settings.eval && searcher ? trainingEvaluator(settings.eval, settings, searcher.search) : undefined;
    process.once('SIGINT', onSigint);
    let last = 0;
    const r = await trainRun(settings, runDir, {
      resume,
      signal: ctl.signal,
      evaluate,
      log: (s) => out.error(`embedsmith train: ${s}`),
      onProgress: (p) => {
        const now = Date.now();
        if (p.step < p.totalSteps && now - last < 2000 && !p.eval) return;
        last = now;
        const ev = p.eval ? ' ' + Object.entries(p.eval).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(' ') : '';
        const masked = p.guideMasked !== undefined ? ` guide masked ${p.guideMasked}` : '';
        out.error(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.pairsPerSec.toFixed(1)} pairs/s eta ${Math.round(p.etaSec)} s${masked}${ev}`);
      },
    });
    if (r.cancelled) {
      out.error(`embedsmith train: stopped at step ${r.steps} of ${r.totalSteps}; continue with the same command and --resume`);
      return 1;
    }
    if (r.alreadyFinished) {
      out.log(
        `${r.runDir} was already finished: all ${r.totalSteps} steps ran before this --resume, so there was nothing to resume; ` +
          `final loss ${r.finalLoss?.toFixed(4) ?? 'not recorded'}; model in ${r.modelDir}. To train further, start a new run from it: --model ${r.modelDir} --out NEW_RUN_DIR`,
      );
      return 0;
    }
    out.log(`trained ${r.steps} steps on ${r.device} (${r.precision})${r.skippedSteps ? ` (${r.skippedSteps} skipped: non-finite gradients)` : ''}; final loss ${r.finalLoss?.toFixed(4)}; model in ${r.modelDir}`);
    if (generalEval && r.modelDir) {
      // The forgetting guard: the model is saved already, so a failure here only warns.
      try {
        const g = await guardForgetting({ base: settings.model, tuned: r.modelDir, runDir, device: settings.device, maxLength: settings.maxLength, signal: ctl.signal });
        out.log(describeGeneral(g));
      } catch (e) {
        out.error(`embedsmith train: the general-set check did not run (${e instanceof Error ? e.message : String(e)}); the trained model is saved`);
      }
    }
    return 0;
  } catch (err) {
    return reportError('train', TRAIN_USAGE, err, out);
  } finally {
    process.off('SIGINT', onSigint);
    await searcher?.dispose();
  }
}
