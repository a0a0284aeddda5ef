// A training run (DESIGN §6 `embedsmith train`): settings → examples → a seeded step plan →
// the trainer (one ONNX step graph per shape bucket, runtime/trainer.ts) → metrics.jsonl,
// checkpoints and the final model folder. Everything that decides a step's numbers (the
// plan, AdamW's t, the schedule, dropout masks) follows from the step count, so a run
// resumed from a checkpoint continues exactly as the uninterrupted run would have.

import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { applyTemplate, templateToPrompts } from '../data/templates.js';
import { loadModelTokenizer, positionLimit, type LoadedModel } from '../model/load.js';
import { specOfModel, loadEncoderFolder } from '../model/open-model.js';
import { saveModelFolder } from '../model/save.js';
import { type EncoderSpec, buildTrainStep, modelFloat16Problem, paramSpecs } from '../nn/index.js';
import { LOGIT_SCALE_KEY, type LossKind, MAX_SCALE } from '../nn/graphs.js';
import { gradCacheGraphs } from '../nn/grad-cache.js';
import { loraSpecOf, loraStep, mergedParams } from '../nn/lora-step.js';
import { openModelTools } from '../mining/embedder.js';
import { type Trainer, createTrainer, resolvePrecision, selectDevice } from '../runtime/index.js';
import { createGradCacheTrainer } from '../runtime/grad-cache.js';
import { ioError, writeJsonAtomic } from '../workspace/atomic.js';
import { withFolderLock } from '../workspace/lock.js';
import { checkOutPath } from '../workspace/out-path.js';
import { pairLossBatch, stepBatch, type Templates } from './batch.js';
import { type LoopState, listCheckpoints, loadCheckpoint, pruneCheckpoints, saveCheckpoint, checkpointDir, writeTextSynced } from './checkpoint.js';
import { type Example, TokenCache } from './examples.js';
import { Guide } from './guide.js';
import { preflightRun, thisMachine } from './preflight.js';
import { maxLengthWarning } from './model-defaults.js';
import { trainCard } from './card.js';
import { planRun } from './plan.js';
import { initialAdapters, saveAdapterFolder } from './lora-adapter.js';
import { initialScalerState, updateScale } from './loss-scaler.js';
import { type Schedule, lrAt, warmupSteps } from './schedule.js';
import { type InputFingerprint, checkCheckpointTensors, fingerprintMismatch, inputFingerprint, metricsUpTo } from './resume-check.js';
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

/**
 * Runs `fn` holding RUN_DIR/run.lock: two trainings into one folder would interleave
 * metrics.jsonl and leave the config of one beside the model of the other, so the second is
 * refused, naming the first. A folder this call created and nothing filled is removed again.
 */
export async function withRunFolder<T>(runDir: string, log: ((line: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  const existing = await stat(runDir).catch(() => null);
  if (existing && !existing.isDirectory()) {
    throw new EngineError('BAD_INPUT', `--out ${runDir} is a file, not a run folder. Fix: choose a new folder name for --out (the file is left as it is).`, { setting: 'out', path: runDir });
  }
  const made = await mkdir(runDir, { recursive: true }).catch((e) => {
    throw ioError(e, runDir, 'create the run folder');
  });
  try {
    return await withFolderLock(runDir, 'run', (note) => {
      if (note) log?.(note);
      return fn();
    });
  } finally {
    if (made !== undefined) await rmdir(runDir).catch(() => {}); // fails, as it should, once the run wrote anything
  }
}

async function trainLocked(settings: TrainSettings, runDir: string, opts: { resume?: boolean } & TrainHooks): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const configPath = join(runDir, 'config.json');
  const metricsPath = join(runDir, 'metrics.jsonl');
  const beforePath = join(runDir, 'eval-before.json');
  if (existsSync(configPath) && !opts.resume) {
    throw new EngineError('ALREADY_EXISTS', `${runDir} already holds a run; continue it with --resume or choose another --out`, { path: runDir });
  }
  if (opts.resume && !existsSync(configPath)) {
    throw new EngineError('NOT_FOUND', `--resume: ${runDir} has no config.json, so there is no run to continue; drop --resume to start one`, { path: runDir });
  }
  if (opts.resume) {
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as TrainSettings;
    const diff = resumeMismatch(saved, settings);
    if (diff) throw new EngineError('BAD_INPUT', `--resume: the settings differ from the run's config.json (${diff}); resume with the same settings or start a new run`, { path: configPath });
  }

  const loaded = await loadEncoderFolder(settings.model);
  const base = specOfModel(loaded);
  const spec: EncoderSpec = settings.dropout === null ? base : { ...base, hiddenDropout: settings.dropout, attentionDropout: settings.dropout };
  const tokenizer = await loadModelTokenizer(loaded, settings.maxLength);
  const tooLong = maxLengthWarning(settings.maxLength, { trained: loaded.sentence.maxSeqLength, positions: positionLimit(loaded.config), hidden: loaded.config.hiddenSize });
  if (tooLong) log(`warning: ${tooLong}`);
  const tokens = new TokenCache(tokenizer, settings.maxLength);
  const templates: Templates = {
    query: (t) => applyTemplate(settings.template.query, t),
    document: (t) => applyTemplate(settings.template.document, t),
  };
  const machine = await thisMachine(runDir);
  // The size pre-flight runs before the plan is built: the plan is what might not fit.
  const { examples, heldOut, meta, kind, negativesPerQuery: n, masked, steps: plan } = await planRun(settings, { beforePlan: (count) => void preflightRun(settings, count, machine, runDir) });
  checkLossFits(kind, meta.format, settings);
  // What a checkpoint records and --resume compares: the run continues only on the same inputs.
  const inputs = inputFingerprint({ examples, template: settings.template, settings: resumeSettings(settings), params: loaded.params });
  const schedule: Schedule = { lr: settings.lr, schedule: settings.schedule, warmupSteps: warmupSteps(settings.warmup, plan.length), totalSteps: plan.length };
  const device = await selectDevice(settings.device);
  // Gradient caching has no loss scale in its chunk passes yet: auto takes fp32 with it, fp16 is refused.
  const precision =
    settings.precision === 'auto' && settings.gradCacheRows
      ? { precision: 'fp32' as const, reason: 'auto picked fp32: --grad-cache runs in fp32 only' }
      : await resolvePrecision(settings.precision, device.device, modelFloat16Problem(spec));
  if (precision.precision === 'fp16' && settings.gradCacheRows) {
    throw new EngineError('UNSUPPORTED', '--grad-cache does not run in fp16 yet (its chunk passes have no loss scale); use --precision fp32 with it, or drop --grad-cache', { setting: 'precision' });
  }
  log(
    `${examples.length} training examples (${heldOut} held out by split.json), loss ${kind}${kind === 'infonce' ? `, ${n} negatives per query${masked ? ' (some queries have fewer: filler slots are masked)' : ''}` : ''}; ` +
      `${plan.length} steps of ${settings.batchSize}${settings.gradCacheRows ? ` (gradient cache, chunks of ${settings.gradCacheRows} rows)` : ''}; device ${device.device} (${device.reason}); precision ${precision.precision} (${precision.reason})`,
  );

  const fp16 = precision.precision === 'fp16';
  const loop: LoopState = { step: 0, lrScale: 1, skippedSteps: 0, best: null, sinceBest: 0, scaler: fp16 ? initialScalerState() : null };
  const matryoshka = settings.matryoshka?.map((dim, i) => ({ dim, weight: settings.matryoshkaWeights?.[i] ?? 1 }));
  const tooWide = settings.matryoshka?.filter((d) => d > spec.hidden) ?? [];
  if (tooWide.length) throw new EngineError('BAD_INPUT', `--matryoshka: ${tooWide.join(', ')} exceed the model's ${spec.hidden} dimensions; give widths from 1 to ${spec.hidden}`, { setting: 'matryoshka' });
  // Dropout masks: hashed in the graph on a GPU (no upload); drawn in JS on the CPU, where the hash costs more than drawing.
  const dropoutMasks = device.device === 'cpu' ? ('host' as const) : ('graph' as const);
  // LoRA: adapters train, the base weights are frozen graph inputs; they merge into a plain model on save and eval.
  const baseSpecs = paramSpecs(spec);
  const loraSpec = settings.lora === null ? undefined : loraSpecOf({ rank: settings.lora, alpha: settings.loraAlpha, dropout: settings.loraDropout, targets: settings.loraTargets }, baseSpecs);
  const lora = loraSpec ? loraStep(baseSpecs, loraSpec) : null;
  const plain = (all: Map<string, Float32Array>): Map<string, Float32Array> => (lora && loraSpec ? mergedParams(all, lora, loraSpec) : all);
  if (lora && loraSpec) {
    const trained = lora.params.reduce((n, p) => n + p.shape[0] * p.shape[1], 0);
    const total = baseSpecs.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    log(`LoRA r ${loraSpec.rank}, alpha ${loraSpec.alpha} on ${lora.adapters.length} linears (${loraSpec.targets.join(', ')}): ${trained.toLocaleString('en')} trained parameters of ${total.toLocaleString('en')} (${((100 * trained) / total).toFixed(2)}%)`);
  }
  const stepOptions = { temperature: settings.temperature, maxGradNorm: settings.maxGradNorm, loss: kind, symmetric: settings.symmetric, learnTemperature: settings.learnTemperature, matryoshka, dropoutMasks, precision: precision.precision, lora: loraSpec };
  const initialParams = new Map(loaded.params);
  // CLIP's parameterisation: the log of the scale, starting at 1 / temperature.
  if (settings.learnTemperature) initialParams.set(LOGIT_SCALE_KEY, new Float32Array([Math.log(1 / settings.temperature)]));
  if (lora) for (const [k, a] of initialAdapters(lora, settings.seed)) initialParams.set(k, a);
  const trainerBase = {
    device: device.device,
    initialParams,
    lr: (done: number) => lrAt(schedule, done) * loop.lrScale,
    weightDecay: settings.weightDecay,
    seed: settings.seed,
    deterministic: true,
    threads: settings.threads,
    lossScale: fp16 ? () => loop.scaler!.scale : undefined,
  };
  const guide = settings.guide === null ? null : await buildGuide(settings.guide === 'base' ? settings.model : settings.guide, examples, templates, settings, log);
  const trainer = settings.gradCacheRows
    ? await createGradCacheTrainer({ ...trainerBase, graphs: gradCacheGraphs(spec, { negativesPerQuery: n, maskNegatives: masked }, stepOptions), chunkRows: settings.gradCacheRows })
    : await createTrainer({ ...trainerBase, buildStep: (shape) => buildTrainStep(spec, { queries: shape.batch, negativesPerQuery: n, length: shape.length, maskNegatives: masked, guided: guide !== null }, stepOptions) });
  try {
    await withIo(runDir, 'create the folder', () => mkdir(runDir, { recursive: true }));
    // The device this session trains on, for readers of a stopped or finished run (the app's run panel).
    await writeJsonAtomic(join(runDir, 'device.json'), { device: device.device, reason: device.reason });
    if (opts.resume) {
      const expected = new Map([...initialParams].map(([k, a]) => [k, loaded.shapes.get(k) ?? [a.length]] as const));
      const trained = lora ? new Set([...initialParams.keys()].filter((k) => !loaded.params.has(k))) : undefined;
      await restore(trainer, runDir, loop, metricsPath, log, { expected, trained, inputs, data: settings.data, model: settings.model });
      // 'auto' may resolve otherwise on another machine: a scale only where this run is fp16.
      loop.scaler = fp16 ? (loop.scaler ?? initialScalerState()) : null;
    }
    else {
      await writeJsonAtomic(configPath, settings);
      await writeTextSynced(metricsPath, '');
    }
    // The base model's scores, for the model card's before/after (kept for a resumed run).
    if (opts.evaluate && !existsSync(beforePath)) {
      await writeJsonAtomic(beforePath, await opts.evaluate(loaded.params, spec, loaded));
    }
    return await loopSteps();
  } finally {
    await trainer.dispose();
  }

  async function loopSteps(): Promise<TrainResult> {
    let cancelled = false;
    let earlyStopped = false;
    let finalLoss: number | null = null;
    const started = Date.now();
    const startStep = loop.step;
    while (loop.step < plan.length) {
      if (opts.signal?.aborted) {
        cancelled = true;
        break;
      }
      const { epoch, examples: picks } = plan[loop.step];
      const batch =
        kind === 'infonce'
          ? stepBatch(examples, picks, n, masked, templates, tokens, spec.typeVocabSize > 1)
          : pairLossBatch(kind, examples, picks, templates.query, tokens, spec.typeVocabSize > 1);
      const guided = guide && kind === 'infonce' ? guide.stepBias(examples, picks, n, templates, { strategy: settings.guideMarginStrategy, margin: settings.guideMargin }) : null;
      if (guided) batch.feeds.guide_bias = guided.bias;
      const t0 = performance.now();
      const r = await trainer.step(batch.feeds, batch.shape);
      const secs = (performance.now() - t0) / 1000;
      loop.step = r.step;
      const skipped = !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm);
      const rec: StepRecord = { step: r.step, epoch, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, pairsPerSec: picks.length / secs };
      if (guided) rec.guideMasked = guided.masked;
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
      const last = loop.step === plan.length;
      if (opts.evaluate && ((settings.evalEvery > 0 && loop.step % settings.evalEvery === 0) || last)) {
        rec.eval = await opts.evaluate(plain(await trainer.getParams()), spec, loaded);
        earlyStopped = await track(rec.eval) && !last;
      }
      await withIo(metricsPath, 'append to', () => appendFile(metricsPath, JSON.stringify(rec) + '\n'));
      const elapsed = (Date.now() - started) / 1000;
      const perStep = elapsed / (loop.step - startStep);
      opts.onProgress?.({ ...rec, totalSteps: plan.length, etaSec: perStep * (plan.length - loop.step) });
      if ((settings.checkpointEvery > 0 && loop.step % settings.checkpointEvery === 0) || earlyStopped) await checkpoint();
      if (earlyStopped) {
        log(`early stop at step ${loop.step}: no ${settings.metric} improvement in ${settings.patience} evaluations (best ${loop.best?.value} at step ${loop.best?.step})`);
        break;
      }
    }
    if (cancelled) {
      await checkpoint();
      log(`stopped at step ${loop.step} of ${plan.length}; checkpoint written — continue with --resume`);
      return result(true, false, finalLoss, null);
    }
    const alreadyFinished = startStep === plan.length && plan.length > 0;
    if (alreadyFinished) {
      // --resume of a run whose last checkpoint is its final step: no step runs now. Report the
      // loss it finished with (not "undefined") and say so; the model is rewritten unchanged.
      finalLoss = await lastLoss(metricsPath);
      log(`${runDir} was already finished: all ${plan.length} steps ran before this --resume, so there is nothing to resume`);
    }
    await checkpoint();
    const bestDir = loop.best ? join(runDir, 'checkpoints', 'best') : null;
    const trainedParams = bestDir && existsSync(bestDir) ? (await loadCheckpoint(bestDir)).params : await trainer.getParams();
    const all = plain(trainedParams);
    const learned = all.get(LOGIT_SCALE_KEY);
    if (learned) log(`learned temperature ${(1 / Math.min(Math.exp(learned[0]), MAX_SCALE)).toFixed(4)} (started at ${settings.temperature})`);
    // The model folder holds the encoder only: the learned scale belongs to the loss (and LoRA's adapters are merged in).
    const params = new Map([...all].filter(([k]) => loaded.params.has(k)));
    const modelDir = join(runDir, 'model');
    const card = await trainCard({
      settings, runDir, loaded, plan: { examples, heldOut, meta, kind, negativesPerQuery: n }, steps: loop.step, prompts: prompts(),
      before: existsSync(beforePath) ? (JSON.parse(await readFile(beforePath, 'utf8')) as Record<string, number>) : undefined,
      after: await savedMetrics(),
    });
    await saveModelFolder(
      { ...loaded, params, sentence: { ...loaded.sentence, maxSeqLength: settings.maxLength, prompts: prompts(), defaultPromptName: null } },
      modelDir,
      { overwrite: true, card },
    );
    // LoRA: the adapters themselves too, as a PEFT adapter folder for the base model.
    if (lora && loraSpec) await saveAdapterFolder(join(runDir, 'adapter'), trainedParams, lora, loraSpec, settings.model);
    if (tokens.truncated > 0) log(`${tokens.truncated} of ${tokens.size} distinct texts were longer than ${settings.maxLength} tokens and were cut to ${settings.maxLength} (--max-length)`);
    log(`model written to ${modelDir}${loop.best ? ` (best ${settings.metric} ${loop.best.value.toFixed(4)} at step ${loop.best.step})` : ''}`);
    return { ...result(false, earlyStopped, finalLoss, modelDir), alreadyFinished };
  }

  /** The evaluation of the parameters being saved: the best step's, else the last step's (from metrics.jsonl, so a resumed run has it too). */
  async function savedMetrics(): Promise<Record<string, number> | undefined> {
    const records = (await readFile(metricsPath, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as StepRecord);
    const at = loop.best ? loop.best.step : loop.step;
    return records.find((r) => r.step === at && r.eval)?.eval;
  }

  /** Records an evaluation; true when early stopping should stop the run. */
  async function track(metrics: Record<string, number>): Promise<boolean> {
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

  async function checkpoint(): Promise<void> {
    const dir = await saveCheckpoint(runDir, { loop, params: await trainer.getParams(), optimizer: await trainer.getOptimizerState(), inputs });
    await pruneCheckpoints(runDir, settings.keepCheckpoints);
    log(`checkpoint ${dir}`);
  }

  /** sentence-transformers prompts are prefixes: a '… {text}' template becomes its prefix (templateToPrompts refuses text after {text}). */
  function prompts(): Record<string, string> {
    return templateToPrompts({ query: settings.template.query, document: settings.template.document, text: '' });
  }

  function result(cancelled: boolean, earlyStopped: boolean, finalLoss: number | null, modelDir: string | null): TrainResult {
    return { runDir, steps: loop.step, totalSteps: plan.length, cancelled, earlyStopped, finalLoss, skippedSteps: loop.skippedSteps, best: loop.best, modelDir, device: device.device, deviceReason: device.reason, precision: precision.precision };
  }
}

/** The loss of the last step in metrics.jsonl, or null (none, or a torn last line). */
async function lastLoss(metricsPath: string): Promise<number | null> {
  const lines = existsSync(metricsPath) ? (await readFile(metricsPath, 'utf8')).split('\n').filter((l) => l !== '') : [];
  try {
    const loss = (JSON.parse(lines[lines.length - 1] ?? 'null') as StepRecord | null)?.loss;
    return typeof loss === 'number' ? loss : null;
  } catch {
    return null;
  }
}

/**
 * Loads the newest checkpoint into the trainer and cuts metrics.jsonl back to its step, after
 * checking that it holds every tensor and was made from the inputs this run has now.
 */
async function restore(
  trainer: Trainer,
  runDir: string,
  loop: LoopState,
  metricsPath: string,
  log: (s: string) => void,
  check: { expected: ReadonlyMap<string, readonly number[]>; trained?: ReadonlySet<string>; inputs: InputFingerprint; data: string; model: string },
): Promise<void> {
  const steps = await listCheckpoints(runDir);
  if (steps.length === 0) {
    log('--resume: no checkpoint yet; starting from step 0');
    await writeTextSynced(metricsPath, '');
    return;
  }
  const at = steps[steps.length - 1];
  const dir = checkpointDir(runDir, at);
  const cp = await loadCheckpoint(dir);
  if (cp.inputs) {
    const changed = fingerprintMismatch(cp.inputs, check.inputs, check);
    if (changed) {
      throw new EngineError(
        'BAD_INPUT',
        `--resume: the run's inputs changed since checkpoint ${dir} was written: ${changed}. Continuing would not give what an uninterrupted run gives. ` +
          'Fix: restore them (e.g. undo the dataset edits), or start a new run with another --out.',
        { path: dir },
      );
    }
  } else log(`--resume: checkpoint ${dir} was written by an earlier version without an input fingerprint; its data, template and model are not verified`);
  checkCheckpointTensors(dir, check.expected, { params: cp.params, m: cp.optimizer.m, v: cp.optimizer.v }, cp.optimizer.step > 0, check.trained);
  // Steps after the checkpoint were lost with the process; they will run again, identically.
  const kept = await metricsUpTo(metricsPath, at, (w) => log(`warning: ${w}`));
  await trainer.setParams(cp.params);
  await trainer.setOptimizerState(cp.optimizer);
  Object.assign(loop, cp.loop);
  await writeTextSynced(metricsPath, kept.map((l) => l + '\n').join(''));
  log(`resumed from checkpoint step ${at}`);
}

export type { Example };

/** A loss needs its data: refuse combinations that would train on nothing meaningful. */
function checkLossFits(kind: LossKind, format: string, s: TrainSettings): void {
  const needs: Record<LossKind, string[]> = { infonce: ['pairs', 'triplets', 'scored'], supcon: ['labeled'], cosent: ['scored'] };
  if (!needs[kind].includes(format)) {
    throw new EngineError('BAD_INPUT', `--loss ${kind} needs ${needs[kind].join(' or ')} data; ${s.data} is '${format}'. Fix: use --loss auto, or another dataset`, { setting: 'loss' });
  }
  if (s.gradCacheRows && (kind !== 'infonce' || s.learnTemperature || s.symmetric || s.matryoshka || s.guide)) {
    throw new EngineError('BAD_INPUT', '--grad-cache works with plain InfoNCE only (not supcon/cosent, --learn-temperature, --symmetric, --matryoshka or --guide); drop one of them', { setting: 'grad-cache' });
  }
  if (s.guide !== null && kind !== 'infonce') {
    throw new EngineError('BAD_INPUT', `--guide masks in-batch candidates of InfoNCE; the ${kind} loss has none. Fix: drop --guide, or train pairs/triplets`, { setting: 'guide' });
  }
}

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
