// The compute jobs behind EngineApi's mineNegatives / evaluateModel / trainModel /
// projectEmbeddings: the same engine calls as `embedsmith mine|eval|train|umap`, reporting
// through the job's progress and stopping on its signal. They share the 'compute' lane, so
// one device job runs at a time and the rest queue visibly.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { exportOnnx } from '../model/export-onnx.js';
import { specOfModel, loadEncoderFolder } from '../model/open-model.js';
import { saveModelFolder } from '../model/save.js';
import { EngineError } from '../../../shared/errors.js';
import type {
  ExportJobResult, ExportRequest, EvaluateJobResult, EvaluateRequest, GeneralEvalReport, MergeCurveJobResult, MergeCurveRequest, MergeJobResult, MergeRequest,
  MineJobResult, MineRequest, TrainJobResult, TrainRequest, UmapJobResult, UmapRequest,
} from '../../../shared/api.js';
import { guardForgetting } from '../eval/general.js';
import { mergeCurve } from '../eval/merge-curve.js';
import { mergeModels } from '../model/merge.js';
import { modelDir as modelFolderOf } from '../model/load.js';
import { evaluateDataset } from '../eval/evaluate.js';
import { openModelTools } from '../mining/embedder.js';
import { mineDataset } from '../mining/mine-dataset.js';
import { createSearcher } from '../search/search.js';
import { umapJson } from '../projection/projection-file.js';
import { embedByRole, projectionTexts } from '../projection/texts.js';
import { projectUmapWithNeighbours } from '../projection/umap.js';
import { trainingEvaluator } from '../train/evaluator.js';
import { trainRun } from '../train/run.js';
import { type TrainSettings, modelTemplate } from '../train/settings.js';
import { resumeRepeatedKeys, settingsFromJson, trainDefaults } from '../../../shared/train-settings.js';
import { modelTrainDefaults, readModelLimits } from '../train/model-defaults.js';
import { writeFileAtomic } from '../workspace/atomic.js';
import type { JobContext } from './jobs.js';

export const COMPUTE_LANE = 'compute';

export async function mineJob(r: MineRequest, { signal, progress }: JobContext): Promise<MineJobResult> {
  const tools = await openModelTools(r.model, { device: r.device, signal });
  try {
    const m = await mineDataset({
      dataDir: r.dataset, outDir: r.out, embed: tools.embed, search: tools.search, textKey: tools.documentKey, options: r.options, model: { path: r.model }, signal,
      onProgress: (p) => progress({ message: `${p.phase}…`, done: p.done, total: p.total }),
    });
    const c = m.meta.mining.counts;
    return { dataset: m.dir, anchors: c.anchors, mined: c.mined, shortAnchors: c.shortAnchors };
  } finally {
    await tools.dispose();
  }
}

export async function evaluateJob(r: EvaluateRequest, { signal, progress }: JobContext): Promise<EvaluateJobResult> {
  const tools = await openModelTools(r.model, { device: r.device, dims: r.dims, signal });
  try {
    const e = await evaluateDataset({
      dataDir: r.dataset, split: r.split, k: r.k, embed: tools.embed, search: tools.search, signal,
      onProgress: (p) => progress({ message: `${p.phase}…`, done: p.done, total: p.total }),
    });
    return { metrics: e.metrics, queries: e.counts.evaluated, documents: e.counts.corpus, perQuery: e.perQuery.map((q) => ({ query: q.query, ranks: q.ranks, relevant: q.relevant, retrieved: q.retrieved })) };
  } finally {
    await tools.dispose();
  }
}

export async function trainJob(r: TrainRequest, { signal, progress }: JobContext): Promise<TrainJobResult> {
  // JSON carries no Infinity (--max-grad-norm Infinity arrives as null through the web bridge).
  const s = settingsFromJson(r.settings ?? {});
  // A name the settings table does not know would be written to config.json and do nothing.
  const known = resumeRepeatedKeys();
  const unknown = Object.keys(s).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new EngineError('BAD_INPUT', `training has no setting ${unknown.map((k) => `'${k}'`).join(', ')}; the settings are ${known.join(', ')}. Fix: drop or rename it.`, { setting: unknown[0] });
  }
  const template = s.template ?? (await modelTemplate(r.model));
  // Length and learning rate left out follow the base model, as `embedsmith train` does.
  const own = modelTrainDefaults(await readModelLimits(r.model));
  const settings: TrainSettings = { ...trainDefaults(), ...own, ...s, model: r.model, data: r.dataset, template, threads: availableParallelism() };
  const searcher = settings.eval ? createSearcher({ device: 'cpu' }) : null;
  try {
    const t = await trainRun(settings, r.out, {
      resume: r.resume,
      signal,
      // Setup lines (examples, device and why) show as the job's message until steps start.
      log: (line) => progress({ message: line }),
      evaluate: settings.eval && searcher ? trainingEvaluator(settings.eval, settings, searcher.search) : undefined,
      onProgress: (p) =>
        progress({ message: `step ${p.step}/${p.totalSteps} · loss ${p.loss.toFixed(4)} · ${p.pairsPerSec.toFixed(1)} pairs/s${p.guideMasked !== undefined ? ` · ${p.guideMasked} candidates masked by the guide` : ''}`, done: p.step, total: p.totalSteps, unit: 'steps' }),
    });
    if (t.cancelled) throw new EngineError('CANCELLED', `training stopped at step ${t.steps} of ${t.totalSteps}; a checkpoint holds it — start it again with resume to continue`, { runDir: t.runDir });
    // The forgetting guard, as `embedsmith train` runs it: the model is saved already, so a
    // failure here is reported beside the result rather than failing the run.
    let general: GeneralEvalReport | null = null;
    let generalError: string | undefined;
    if (r.generalEval !== false && t.modelDir) {
      progress({ message: 'Scoring the base and the trained model on the general set…' });
      try {
        general = await guardForgetting({ base: settings.model, tuned: t.modelDir, runDir: t.runDir, device: settings.device, maxLength: settings.maxLength, signal });
      } catch (e) {
        generalError = e instanceof Error ? e.message : String(e);
      }
    }
    return {
      runDir: t.runDir, modelDir: t.modelDir, steps: t.steps, totalSteps: t.totalSteps, finalLoss: t.finalLoss, best: t.best, device: t.device, deviceReason: t.deviceReason, precision: t.precision,
      general, ...(generalError ? { generalError } : {}),
    };
  } finally {
    await searcher?.dispose();
  }
}

export async function umapJob(r: UmapRequest, { signal, progress }: JobContext): Promise<UmapJobResult> {
  const p = await projectionTexts(r.dataset);
  const { texts, labels } = p;
  const tools = await openModelTools(r.model, { device: r.device, signal });
  try {
    const emb = await embedByRole(p, tools.model.dim, tools.embed);
    // The file keeps each point's 10 nearest texts by cosine too, from UMAP's own k-NN search.
    const { layout, neighbours } = await projectUmapWithNeighbours(emb, tools.model.dim, {
      seed: r.seed ?? 42, neighbours: 10, search: tools.search, signal, onProgress: (p) => progress({ message: `${p.phase}…`, done: p.done, total: p.total }),
    });
    await writeFileAtomic(r.out, JSON.stringify(umapJson(layout, labels, texts, neighbours)) + '\n');
    return { file: r.out, points: texts.length };
  } finally {
    await tools.dispose();
  }
}

export async function exportJob(r: ExportRequest): Promise<ExportJobResult> {
  const loaded = await loadEncoderFolder(r.model);
  const files: string[] = [];
  if (r.formats.includes('sentence-transformers')) {
    await saveModelFolder(loaded, r.out, { cardFrom: loaded.dir });
    files.push(join(r.out, 'model.safetensors'), join(r.out, 'README.md'));
  }
  if (r.formats.includes('onnx') || r.formats.includes('fp16')) {
    const written = await exportOnnx({ spec: specOfModel(loaded), loaded }, r.out, { fp32: r.formats.includes('onnx'), fp16: r.formats.includes('fp16') });
    files.push(...written.map((f) => f.path));
  }
  return { dir: r.out, files };
}

/** Loads a model folder (or a run folder's model/) with its weights checked against its config. */
async function loadForMerge(dir: string) {
  return loadEncoderFolder(await modelFolderOf(dir));
}

export async function mergeCurveJob(r: MergeCurveRequest, { signal, progress }: JobContext): Promise<MergeCurveJobResult> {
  const [base, tuned] = [await loadForMerge(r.base), await loadForMerge(r.tuned)];
  const points = await mergeCurve(base, tuned, r.dataset, {
    points: r.points ?? 11, device: r.device, signal,
    onPoint: (p, done, total) => progress({ message: `α ${p.alpha.toFixed(2)}: domain nDCG@10 ${p.domain['ndcg@10']?.toFixed(4) ?? '–'}`, done, total, unit: 'items' }),
  });
  return { points };
}

export async function mergeJob(r: MergeRequest): Promise<MergeJobResult> {
  const merged = mergeModels(await loadForMerge(r.base), await loadForMerge(r.tuned), r.alpha);
  await saveModelFolder(merged.model, r.out);
  return { dir: r.out, alpha: r.alpha, interpolated: merged.interpolated, notes: merged.notes };
}
