// A training run (DESIGN §6 `embedsmith train`): settings → examples → a seeded step plan →
// the trainer (one ONNX step graph per shape bucket, runtime/trainer.ts) → metrics.jsonl,
// checkpoints and the final model folder. Everything that decides a step's numbers (the
// plan, AdamW's t, the schedule, dropout masks) follows from the step count, so a run
// resumed from a checkpoint continues exactly as the uninterrupted run would have.

import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { applyTemplate, templateToPrompts } from '../data/templates.js';
import { loadModelTokenizer, positionLimit, type LoadedModel } from '../model/load.js';
import { specOfModel, loadEncoderFolder } from '../model/open-model.js';
import { saveModelFolder } from '../model/save.js';
import { type EncoderSpec, buildTrainStep, embeddingWidth, modelFloat16Problem, paramSpecs } from '../nn/index.js';
import { LOGIT_SCALE_KEY, MAX_SCALE } from '../nn/graphs.js';
import { gradCacheGraphs } from '../nn/grad-cache.js';
import { loraSpecOf, loraStep, mergedParams } from '../nn/lora-step.js';
import type { LoraSpec } from '../nn/lora.js';
import type { GraphPrecision } from '../nn/mixed-precision.js';
import { openModelTools } from '../mining/embedder.js';
import { type DeviceChoice, type Trainer, createTrainer, resolvePrecision, selectDevice } from '../runtime/index.js';
import { createGradCacheTrainer } from '../runtime/grad-cache.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { checkOutPath } from '../workspace/out-path.js';
import type { BatchInput, Templates } from './batch.js';
import { type LoopState, loadCheckpoint, pruneCheckpoints, saveCheckpoint, writeTextSynced } from './checkpoint.js';
import { type Example, TokenCache } from './examples.js';
import { Guide } from './guide.js';
import { preflightRun, thisMachine } from './preflight.js';
import { maxLengthWarning } from './model-defaults.js';
import { trainCard } from './card.js';
import { type RunPlan, planRun } from './plan.js';
import { lastLoss, restore, savedMetrics, withRunFolder } from './run-files.js';
import { checkLossFits } from './losses/fit.js';
import { initialAdapters, saveAdapterFolder } from './lora-adapter.js';
import { initialScalerState, updateScale } from './loss-scaler.js';
import { type Schedule, lrAt, warmupSteps } from './schedule.js';
import { type InputFingerprint, inputFingerprint } from './resume-check.js';
import { type TrainSettings, checkSettings, resumeMismatch, resumeSettings } from './settings.js';
import { withIo } from '../workspace/fs-errors.js';

export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  pairsPerSec: number;
  /** The update was not applied: the gradient was NaN or infinite (the rate or, in fp16, the loss scale was halved). */
  skipped?: boolean;
  /** With a guide model (--guide): in-batch candidates it masked out of this step's softmax. */
  guideMasked?: number;
  /** fp16 runs: the loss scale this step ran with (train/loss-scaler.ts). */
  lossScale?: number;
  eval?: Record<string, number>;
}

export interface TrainProgress extends StepRecord {
  totalSteps: number;
  etaSec: number;
}

export type Evaluate = (params: Map<string, Float32Array>, spec: EncoderSpec, loaded: LoadedModel) => Promise<Record<string, number>>;

export interface TrainHooks {
  onProgress?: (p: TrainProgress) => void;
  /** One human-readable line at a time (settings, device, checkpoints, warnings). */
  log?: (line: string) => void;
  /** Stops after the running step; a checkpoint is written so --resume continues from there. */
  signal?: AbortSignal;
  /** Metrics of the current parameters (eval set); called every evalEvery steps and at the end. */
  evaluate?: Evaluate;
}

export interface TrainResult {
  runDir: string;
  steps: number;
  totalSteps: number;
  /** Stopped by the signal (a checkpoint holds the state) rather than finished. */
  cancelled: boolean;
  earlyStopped: boolean;
  finalLoss: number | null;
  skippedSteps: number;
  best: LoopState['best'];
  /** RUN_DIR/model, written when the run finished. */
  modelDir: string | null;
  /** A --resume found every step done already: nothing was trained now. */
  alreadyFinished?: boolean;
  device: string;
  /** Why that device (selectDevice's reason). */
  deviceReason: string;
  /** The precision the run used ('auto' resolved). */
  precision: string;
}

export async function trainRun(settingsIn: TrainSettings, runDirIn: string, opts: { resume?: boolean } & TrainHooks = {}): Promise<TrainResult> {
  const settings = checkSettings(settingsIn);
  // The saved model carries the templates as prompts: refuse one it could not carry before training, not after.
  templateToPrompts({ query: settings.template.query, document: settings.template.document, text: '' });
  const sources = [{ path: settings.model, what: '--model' }, { path: settings.data, what: '--data' }, ...(settings.eval ? [{ path: settings.eval, what: '--eval' }] : [])];
  await checkOutPath(runDirIn, 'folder', sources);
  return withRunFolder(resolve(runDirIn), opts.log, () => trainLocked(settings, resolve(runDirIn), opts));
}

// The run, top-down (nanoGPT-style): 1 resolve settings and resume, 2 load the model, 3 plan and
// check the loss fits, 4 pick the device and build the trainer, 5 start (or resume) and loop,
// 6 finish. The stages share two records: Run (fixed once planned) and Training (the trainer
// and the loop state it changes).

async function trainLocked(settings: TrainSettings, runDir: string, hooks: { resume?: boolean } & TrainHooks): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const paths = { config: join(runDir, 'config.json'), metrics: join(runDir, 'metrics.jsonl'), before: join(runDir, 'eval-before.json') };
  await checkResume(settings, runDir, paths.config, hooks.resume === true);
  const model = await loadModel(settings, log);
  const machine = await thisMachine(runDir);
  // The size pre-flight runs before the plan is built: the plan is what might not fit.
  const plan = await planRun(settings, { beforePlan: (count) => void preflightRun(settings, count, machine, runDir) });
  checkLossFits(plan.loss, plan.meta.format, settings);
  // What a checkpoint records and --resume compares: the run continues only on the same inputs.
  const inputs = inputFingerprint({ examples: plan.examples, template: settings.template, settings: resumeSettings(settings), params: model.loaded.params });
  const run: Run = { settings, runDir, paths, log, hooks, ...model, plan, inputs };
  const { device, precision } = await pickDevice(run);
  const t = await buildTrainer(run, device.device, precision.precision);
  try {
    await start(run, t, device);
    const outcome = await loop(run, t);
    const done = outcome.cancelled ? null : await finish(run, t, outcome);
    const modelDir = done?.modelDir ?? null;
    return {
      runDir, steps: t.loop.step, totalSteps: plan.steps.length, cancelled: outcome.cancelled, earlyStopped: outcome.earlyStopped, finalLoss: done ? done.finalLoss : outcome.finalLoss,
      skippedSteps: t.loop.skippedSteps, best: t.loop.best, modelDir, device: device.device, deviceReason: device.reason, precision: precision.precision,
      ...(done ? { alreadyFinished: done.alreadyFinished } : {}),
    };
  } finally {
    await t.trainer.dispose();
  }
}

/** What every stage after planning reads. */
interface Run {
  settings: TrainSettings;
  runDir: string;
  paths: { config: string; metrics: string; before: string };
  log: (line: string) => void;
  hooks: { resume?: boolean } & TrainHooks;
  loaded: LoadedModel;
  /** The model's spec with --dropout applied. */
  spec: EncoderSpec;
  tokens: TokenCache;
  templates: Templates;
  plan: RunPlan;
  inputs: InputFingerprint;
}

/** The trainer and what changes as it runs. */
interface Training {
  trainer: Trainer;
  loop: LoopState;
  /** Mixed precision: the loop keeps a dynamic loss scale (loss-scaler.ts). */
  fp16: boolean;
  /** The run's starting parameters (the base model, plus a learned scale and LoRA adapters). */
  initialParams: Map<string, Float32Array>;
  /** Trained parameters as a plain encoder (LoRA's adapters merged in). */
  plain: (all: Map<string, Float32Array>) => Map<string, Float32Array>;
  lora: { step: ReturnType<typeof loraStep>; spec: LoraSpec } | null;
  batchInput: BatchInput;
}

/** Stage 1: a new run needs an empty folder, --resume an existing run with the same settings. */
async function checkResume(settings: TrainSettings, runDir: string, configPath: string, resume: boolean): Promise<void> {
  if (existsSync(configPath) && !resume) {
    throw new EngineError('ALREADY_EXISTS', `${runDir} already holds a run; continue it with --resume or choose another --out`, { path: runDir });
  }
  if (resume && !existsSync(configPath)) {
    throw new EngineError('NOT_FOUND', `--resume: ${runDir} has no config.json, so there is no run to continue; drop --resume to start one`, { path: runDir });
  }
  if (resume) {
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as TrainSettings;
    const diff = resumeMismatch(saved, settings);
    if (diff) throw new EngineError('BAD_INPUT', `--resume: the settings differ from the run's config.json (${diff}); resume with the same settings or start a new run`, { path: configPath });
  }
}

/** Stage 2: the base model, its spec with --dropout, the tokenizer at --max-length and the templates. */
async function loadModel(settings: TrainSettings, log: (line: string) => void): Promise<Pick<Run, 'loaded' | 'spec' | 'tokens' | 'templates'>> {
  const loaded = await loadEncoderFolder(settings.model);
  const base = specOfModel(loaded);
  const spec: EncoderSpec = settings.dropout === null ? base : { ...base, hiddenDropout: settings.dropout, attentionDropout: settings.dropout };
  const tokenizer = await loadModelTokenizer(loaded, settings.maxLength);
  const tooLong = maxLengthWarning(settings.maxLength, { trained: loaded.sentence.maxSeqLength, positions: positionLimit(loaded.config), hidden: loaded.config.hiddenSize });
  if (tooLong) log(`warning: ${tooLong}`);
  const templates: Templates = {
    query: (t) => applyTemplate(settings.template.query, t),
    document: (t) => applyTemplate(settings.template.document, t),
  };
  return { loaded, spec, tokens: new TokenCache(tokenizer, settings.maxLength), templates };
}

/** Stage 4a: the device and the precision on it, and the run's summary line. */
async function pickDevice({ settings, plan, log, spec }: Run) {
  const device = await selectDevice(settings.device);
  // Gradient caching has no loss scale in its chunk passes yet: auto takes fp32 with it, fp16 is refused.
  const precision =
    settings.precision === 'auto' && settings.gradCacheRows
      ? { precision: 'fp32' as const, reason: 'auto picked fp32: --grad-cache runs in fp32 only' }
      : await resolvePrecision(settings.precision, device.device, modelFloat16Problem(spec));
  if (precision.precision === 'fp16' && settings.gradCacheRows) {
    throw new EngineError('UNSUPPORTED', '--grad-cache does not run in fp16 yet (its chunk passes have no loss scale); use --precision fp32 with it, or drop --grad-cache', { setting: 'precision' });
  }
  const n = plan.negativesPerQuery;
  const negatives = plan.loss.step.candidates ? `, ${n} negatives per query${plan.masked ? ' (some queries have fewer: filler slots are masked)' : ''}` : '';
  log(
    `${plan.examples.length} training examples (${plan.heldOut} held out by split.json), loss ${plan.loss.name}${negatives}; ` +
      `${plan.steps.length} steps of ${settings.batchSize}${settings.gradCacheRows ? ` (gradient cache, chunks of ${settings.gradCacheRows} rows)` : ''}; device ${device.device} (${device.reason}); precision ${precision.precision} (${precision.reason})`,
  );
  return { device, precision };
}

/** Stage 4b: the step graph's options, the starting parameters, the guide, and the trainer. */
async function buildTrainer(run: Run, device: DeviceChoice['device'], precision: GraphPrecision): Promise<Training> {
  const { settings, spec, plan, log } = run;
  const loop: LoopState = { step: 0, lrScale: 1, skippedSteps: 0, best: null, sinceBest: 0, scaler: precision === 'fp16' ? initialScalerState() : null };
  const matryoshka = settings.matryoshka?.map((dim, i) => ({ dim, weight: settings.matryoshkaWeights?.[i] ?? 1 }));
  // The embedding's width: the last Dense module's output where the model has one (EmbeddingGemma), else hidden.
  const width = embeddingWidth(spec);
  const tooWide = settings.matryoshka?.filter((d) => d > width) ?? [];
  if (tooWide.length) throw new EngineError('BAD_INPUT', `--matryoshka: ${tooWide.join(', ')} exceed the model's ${width} dimensions; give widths from 1 to ${width}`, { setting: 'matryoshka' });
  // Dropout masks: hashed in the graph on a GPU (no upload); drawn in JS on the CPU, where the hash costs more than drawing.
  const dropoutMasks = device === 'cpu' ? ('host' as const) : ('graph' as const);
  // LoRA: adapters train, the base weights are frozen graph inputs; they merge into a plain model on save and eval.
  const baseSpecs = paramSpecs(spec);
  const loraSpec = settings.lora === null ? undefined : loraSpecOf({ rank: settings.lora, alpha: settings.loraAlpha, dropout: settings.loraDropout, targets: settings.loraTargets }, baseSpecs);
  const lora = loraSpec ? { step: loraStep(baseSpecs, loraSpec), spec: loraSpec } : null;
  if (lora) {
    const trained = lora.step.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    const total = baseSpecs.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    log(`LoRA r ${lora.spec.rank}, alpha ${lora.spec.alpha} on ${lora.step.adapters.length} linears (${lora.spec.targets.join(', ')}): ${trained.toLocaleString('en')} trained parameters of ${total.toLocaleString('en')} (${((100 * trained) / total).toFixed(2)}%)`);
  }
  const stepOptions = { temperature: settings.temperature, maxGradNorm: settings.maxGradNorm, loss: plan.loss.step, symmetric: settings.symmetric, learnTemperature: settings.learnTemperature, matryoshka, dropoutMasks, precision, lora: loraSpec };
  const initialParams = new Map(run.loaded.params);
  // CLIP's parameterisation: the log of the scale, starting at 1 / temperature.
  if (settings.learnTemperature) initialParams.set(LOGIT_SCALE_KEY, new Float32Array([Math.log(1 / settings.temperature)]));
  if (lora) for (const [k, a] of initialAdapters(lora.step, settings.seed)) initialParams.set(k, a);
  const schedule: Schedule = { lr: settings.lr, schedule: settings.schedule, warmupSteps: warmupSteps(settings.warmup, plan.steps.length), totalSteps: plan.steps.length };
  const trainerBase = {
    device,
    initialParams,
    lr: (done: number) => lrAt(schedule, done) * loop.lrScale,
    weightDecay: settings.weightDecay,
    seed: settings.seed,
    deterministic: true,
    threads: settings.threads,
    lossScale: precision === 'fp16' ? () => loop.scaler!.scale : undefined,
  };
  const guide = settings.guide === null ? null : await buildGuide(settings.guide === 'base' ? settings.model : settings.guide, plan.examples, run.templates, settings, log);
  const { negativesPerQuery: n, masked } = plan;
  const trainer = settings.gradCacheRows
    ? await createGradCacheTrainer({ ...trainerBase, graphs: gradCacheGraphs(spec, { negativesPerQuery: n, maskNegatives: masked }, stepOptions), chunkRows: settings.gradCacheRows })
    : await createTrainer({ ...trainerBase, buildStep: (shape) => buildTrainStep(spec, { queries: shape.batch, negativesPerQuery: n, length: shape.length, maskNegatives: masked, guided: guide !== null }, stepOptions) });
  return {
    trainer, loop, fp16: precision === 'fp16', initialParams, lora,
    plain: (all) => (lora ? mergedParams(all, lora.step, lora.spec) : all),
    batchInput: {
      examples: plan.examples, templates: run.templates, tokens: run.tokens, hasTokenTypes: spec.typeVocabSize > 1, negativesPerQuery: n, masked,
      guide, guideRule: { strategy: settings.guideMarginStrategy, margin: settings.guideMargin },
    },
  };
}

/** Stage 5a: the run folder's device.json and config.json, or the checkpoint --resume continues from; the base model's scores. */
async function start(run: Run, t: Training, device: { device: string; reason: string }): Promise<void> {
  const { runDir, paths, hooks, loaded, settings } = run;
  await withIo(runDir, 'create the folder', () => mkdir(runDir, { recursive: true }));
  // The device this session trains on, for readers of a stopped or finished run (the app's run panel).
  await writeJsonAtomic(join(runDir, 'device.json'), { device: device.device, reason: device.reason });
  if (hooks.resume) {
    const expected = new Map([...t.initialParams].map(([k, a]) => [k, loaded.shapes.get(k) ?? [a.length]] as const));
    const trained = t.lora ? new Set([...t.lora.step.params.map((p) => p.key), ...[...t.initialParams.keys()].filter((k) => !loaded.params.has(k))]) : undefined;
    await restore(t.trainer, runDir, t.loop, paths.metrics, run.log, { expected, trained, inputs: run.inputs, data: settings.data, model: settings.model });
    // 'auto' may resolve otherwise on another machine: a scale only where this run is fp16.
    t.loop.scaler = t.fp16 ? (t.loop.scaler ?? initialScalerState()) : null;
  } else {
    await writeJsonAtomic(paths.config, settings);
    await writeTextSynced(paths.metrics, '');
  }
  // The base model's scores, for the model card's before/after (kept for a resumed run).
  if (hooks.evaluate && !existsSync(paths.before)) {
    await writeJsonAtomic(paths.before, await hooks.evaluate(loaded.params, run.spec, loaded));
  }
}

interface LoopOutcome {
  cancelled: boolean;
  earlyStopped: boolean;
  /** The last finite loss of this session's steps. */
  finalLoss: number | null;
  /** The step this session began at (> 0 after --resume). */
  startStep: number;
}

/** Stage 5b: one step per planned batch until the plan ends, the signal stops it, or early stopping does. */
async function loop(run: Run, t: Training): Promise<LoopOutcome> {
  const { settings, plan, log, hooks } = run;
  const { loop } = t;
  const total = plan.steps.length;
  let earlyStopped = false;
  let finalLoss: number | null = null;
  const started = Date.now();
  const startStep = loop.step;
  while (loop.step < total) {
    if (hooks.signal?.aborted) {
      await checkpoint(run, t);
      log(`stopped at step ${loop.step} of ${total}; checkpoint written — continue with --resume`);
      return { cancelled: true, earlyStopped, finalLoss, startStep };
    }
    const { epoch, examples: picks } = plan.steps[loop.step];
    const batch = plan.loss.batch(t.batchInput, picks);
    const t0 = performance.now();
    const r = await t.trainer.step(batch.feeds, batch.shape);
    const secs = (performance.now() - t0) / 1000;
    loop.step = r.step;
    const skipped = !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm);
    const rec: StepRecord = { step: r.step, epoch, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, pairsPerSec: picks.length / secs };
    if (batch.guideMasked !== undefined) rec.guideMasked = batch.guideMasked;
    // fp16: the scale the step ran with, then GradScaler's update (loss-scaler.ts says why a
    // finite loss with non-finite gradients moves the scale only, not the learning rate).
    const scaled = loop.scaler;
    if (scaled) {
      rec.lossScale = scaled.scale;
      loop.scaler = updateScale(scaled, skipped);
    }
    if (skipped) {
      rec.skipped = true;
      loop.skippedSteps++;
      if (scaled && Number.isFinite(r.loss)) {
        log(`step ${r.step}: gradient norm ${r.gradNorm} at loss scale ${scaled.scale} — float16 overflow, update skipped, loss scale halved to ${loop.scaler!.scale}`);
      } else {
        loop.lrScale /= 2;
        log(`step ${r.step}: loss ${r.loss}, gradient norm ${r.gradNorm} — update skipped, learning rate halved (now ×${loop.lrScale})`);
      }
    } else finalLoss = r.loss;
    const last = loop.step === total;
    if (hooks.evaluate && ((settings.evalEvery > 0 && loop.step % settings.evalEvery === 0) || last)) {
      rec.eval = await hooks.evaluate(t.plain(await t.trainer.getParams()), run.spec, run.loaded);
      earlyStopped = (await track(run, t, rec.eval)) && !last;
    }
    await withIo(run.paths.metrics, 'append to', () => appendFile(run.paths.metrics, JSON.stringify(rec) + '\n'));
    const perStep = (Date.now() - started) / 1000 / (loop.step - startStep);
    hooks.onProgress?.({ ...rec, totalSteps: total, etaSec: perStep * (total - loop.step) });
    if ((settings.checkpointEvery > 0 && loop.step % settings.checkpointEvery === 0) || earlyStopped) await checkpoint(run, t);
    if (earlyStopped) {
      log(`early stop at step ${loop.step}: no ${settings.metric} improvement in ${settings.patience} evaluations (best ${loop.best?.value} at step ${loop.best?.step})`);
      break;
    }
  }
  return { cancelled: false, earlyStopped, finalLoss, startStep };
}

/** Stage 6: the last checkpoint, then RUN_DIR/model (the best evaluation's parameters when there is one) with its card, and LoRA's adapter folder. */
async function finish(run: Run, t: Training, outcome: LoopOutcome): Promise<{ modelDir: string; finalLoss: number | null; alreadyFinished: boolean }> {
  const { settings, runDir, plan, loaded, log } = run;
  const { loop } = t;
  const total = plan.steps.length;
  let finalLoss = outcome.finalLoss;
  const alreadyFinished = outcome.startStep === total && total > 0;
  if (alreadyFinished) {
    // --resume of a run whose last checkpoint is its final step: no step runs now. Report the
    // loss it finished with (not "undefined") and say so; the model is rewritten unchanged.
    finalLoss = await lastLoss(run.paths.metrics);
    log(`${runDir} was already finished: all ${total} steps ran before this --resume, so there is nothing to resume`);
  }
  await checkpoint(run, t);
  const bestDir = loop.best ? join(runDir, 'checkpoints', 'best') : null;
  const trainedParams = bestDir && existsSync(bestDir) ? (await loadCheckpoint(bestDir)).params : await t.trainer.getParams();
  const all = t.plain(trainedParams);
  const learned = all.get(LOGIT_SCALE_KEY);
  if (learned) log(`learned temperature ${(1 / Math.min(Math.exp(learned[0]), MAX_SCALE)).toFixed(4)} (started at ${settings.temperature})`);
  // The model folder holds the encoder only: the learned scale belongs to the loss (and LoRA's adapters are merged in).
  const params = new Map([...all].filter(([k]) => loaded.params.has(k)));
  const modelDir = join(runDir, 'model');
  const prompts = runPrompts(settings);
  const card = await trainCard({
    settings, runDir, loaded, plan, steps: loop.step, prompts,
    before: existsSync(run.paths.before) ? (JSON.parse(await readFile(run.paths.before, 'utf8')) as Record<string, number>) : undefined,
    after: await savedMetrics(run.paths.metrics, loop),
  });
  await saveModelFolder(
    { ...loaded, params, sentence: { ...loaded.sentence, maxSeqLength: settings.maxLength, prompts, defaultPromptName: null } },
    modelDir,
    { overwrite: true, card },
  );
  // LoRA: the adapters themselves too, as a PEFT adapter folder for the base model.
  if (t.lora) await saveAdapterFolder(join(runDir, 'adapter'), trainedParams, t.lora.step, t.lora.spec, settings.model);
  if (run.tokens.truncated > 0) log(`${run.tokens.truncated} of ${run.tokens.size} distinct texts were longer than ${settings.maxLength} tokens and were cut to ${settings.maxLength} (--max-length)`);
  log(`model written to ${modelDir}${loop.best ? ` (best ${settings.metric} ${loop.best.value.toFixed(4)} at step ${loop.best.step})` : ''}`);
  return { modelDir, finalLoss, alreadyFinished };
}

/** Records an evaluation; true when early stopping should stop the run. */
async function track({ settings, runDir, inputs }: Run, { loop, trainer }: Training, metrics: Record<string, number>): Promise<boolean> {
  const value = metrics[settings.metric];
  if (value === undefined) {
    throw new EngineError('BAD_INPUT', `--metric ${settings.metric} is not among the evaluation's metrics (${Object.keys(metrics).join(', ')})`, { setting: 'metric' });
  }
  if (!loop.best || value > loop.best.value) {
    loop.best = { metric: settings.metric, value, step: loop.step };
    loop.sinceBest = 0;
    await saveCheckpoint(runDir, { loop, params: await trainer.getParams(), optimizer: await trainer.getOptimizerState(), inputs }, 'best');
    return false;
  }
  loop.sinceBest++;
  return settings.patience > 0 && loop.sinceBest >= settings.patience;
}

async function checkpoint({ settings, runDir, inputs, log }: Run, { loop, trainer }: Training): Promise<void> {
  const dir = await saveCheckpoint(runDir, { loop, params: await trainer.getParams(), optimizer: await trainer.getOptimizerState(), inputs });
  await pruneCheckpoints(runDir, settings.keepCheckpoints);
  log(`checkpoint ${dir}`);
}

/** sentence-transformers prompts are prefixes: a '… {text}' template becomes its prefix (templateToPrompts refuses text after {text}). */
function runPrompts(settings: TrainSettings): Record<string, string> {
  return templateToPrompts({ query: settings.template.query, document: settings.template.document, text: '' });
}

export type { Example };
export { withRunFolder };

/** The frozen guide model's embeddings of every training text, embedded once (train/guide.ts). */
async function buildGuide(dir: string, examples: readonly Example[], templates: Templates, s: TrainSettings, log: (line: string) => void): Promise<Guide> {
  // Texts arrive templated already: the guide adds no prompt of its own.
  const tools = await openModelTools(dir, { device: s.device, maxLength: s.maxLength, template: { query: '', document: '' } });
  try {
    const t0 = Date.now();
    const guide = await Guide.build(examples, templates, tools.embed, tools.model.dim);
    log(`guide ${dir}: embedded the training texts in ${((Date.now() - t0) / 1000).toFixed(1)} s; candidates it scores above a query's positive${s.guideMargin ? ` (${s.guideMarginStrategy} margin ${s.guideMargin})` : ''} leave that query's softmax`);
    return guide;
  } finally {
    await tools.dispose();
  }
}
