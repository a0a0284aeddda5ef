// The demo pipeline (DESIGN §6 `embedsmith demo`, issue 7 §7) on resources/demo: a tiny
// WordNet-pre-trained embedder and the web-features dataset — import → split → evaluate the
// base model → mine hard negatives → train → evaluate again → export. Used by the CLI and by
// EngineApi's runDemo job; the workspace is an ordinary project folder the app opens.
import type { PrecisionChoice } from '../../../shared/jobs.js';
import { existsSync } from 'node:fs';
import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../../../shared/errors.js';
import { DEMO_STAGES } from '../../../shared/jobs.js';
import { importDataset, splitDataset } from '../data/index.js';
import { type EvalResult, evaluateDataset } from '../eval/evaluate.js';
import { exportOnnx } from '../model/export-onnx.js';
import { specOfModel, loadEncoderFolder } from '../model/open-model.js';
import { openModelTools } from '../mining/embedder.js';
import { mineDataset } from '../mining/mine-dataset.js';
import { createSearcher } from '../search/search.js';
import type { DevicePref } from '../runtime/index.js';
import { trainingEvaluator } from '../train/evaluator.js';
import { trainRun } from '../train/run.js';
import { trainDefaults } from '../../../shared/train-settings.js';
import type { TrainSettings } from '../train/settings.js';
import { modelTrainDefaults, readModelLimits } from '../train/model-defaults.js';
import { createProject, projectPaths } from '../workspace/project.js';

/** resources/demo, from dist/main/engine/demo or src/main/engine/demo alike. */
export function demoResources(): string {
  return fileURLToPath(new URL('../../../../resources/demo', import.meta.url));
}

export const DEMO_MARKER = 'embedsmith-demo.json';

export interface DemoOptions {
  workspace: string;
  device?: DevicePref;
  /** Every stage's precision (embedding, mining, training, evaluation); default fp32. */
  precision?: PrecisionChoice;
  epochs?: number;
  signal?: AbortSignal;
  /** One line per stage, and training progress. */
  log?: (line: string) => void;
  /** Training progress as a fraction of the pipeline (0–1), for job bars. */
  onProgress?: (done: number, total: number, message: string) => void;
  holder?: string;
}

export interface DemoResult {
  workspace: string;
  before: Record<string, number>;
  after: Record<string, number>;
  queries: number;
  documents: number;
  steps: number;
  seconds: number;
  /** The folders it made, for the app's Workbench. */
  baseModel: string;
  dataset: string;
  mined: string;
  run: string;
  trained: string;
  exportDir: string;
  /** The device training ran on ('auto' resolved) and why. */
  device: string;
  deviceReason: string;
}

/** An absent or empty folder, or an earlier demo workspace (which is cleared): never a user's folder. */
async function freshWorkspace(ws: string): Promise<void> {
  const entries = await readdir(ws).catch(() => null);
  if (entries === null || entries.length === 0) return;
  if (!entries.includes(DEMO_MARKER)) {
    throw new EngineError('ALREADY_EXISTS', `${ws} exists and is not an Embedsmith demo workspace; choose another --workspace (an empty or new folder)`, { path: ws });
  }
  await rm(ws, { recursive: true, force: true });
}

export async function runDemoPipeline(o: DemoOptions): Promise<DemoResult> {
  const ws = resolve(o.workspace);
  const device = o.device ?? 'auto';
  const epochs = o.epochs ?? 4;
  const log = o.log ?? (() => {});
  const res = demoResources();
  const baseModel = join(res, 'base-model');
  if (!existsSync(join(baseModel, 'model.safetensors'))) {
    throw new EngineError('NOT_FOUND', `the demo model is missing from ${baseModel}; reinstall, or rebuild it with \`node scripts/make-demo.mjs\``);
  }
  const t0 = Date.now();
  o.onProgress?.(0, 1, `${DEMO_STAGES[0]}…`);
  await freshWorkspace(ws);
  const project = await createProject(ws, 'Embedsmith demo', { holder: o.holder ?? `embedsmith demo (pid ${process.pid})` });
  try {
    const paths = projectPaths(ws);
    await writeFile(join(ws, DEMO_MARKER), JSON.stringify({ createdBy: 'embedsmith demo', at: new Date().toISOString() }) + '\n');
    const data = join(paths.datasets, 'web-features');
    const imp = await importDataset(join(res, 'web-features.csv'), data);
    log(`imported ${imp.meta.counts.rows} web-features pairs (feature name → description) into ${data}`);
    const split = await splitDataset(data, { evalFraction: 0.2, seed: 42 });
    log(`split by anchor: ${split.counts.train} train, ${split.counts.eval} held-out queries`);
    o.onProgress?.(0.05, 1, `${DEMO_STAGES[1]}…`);

    const cacheDir = join(paths.cache, 'embeddings');
    const mined = join(paths.datasets, 'web-features-mined');
    const precision = o.precision ?? 'fp32';
    const base = await openModelTools(baseModel, { device, precision, cacheDir, signal: o.signal });
    let before: EvalResult;
    try {
      log(`base model: ${base.model.dim}-d tiny BERT on ${base.model.device} (${base.model.deviceReason})`);
      before = await evaluateDataset({ dataDir: data, embed: base.embed, search: base.search, signal: o.signal });
      log(`base model on held-out queries: nDCG@10 ${before.metrics['ndcg@10'].toFixed(4)}`);
      o.onProgress?.(0.1, 1, `${DEMO_STAGES[2]}…`);
      const m = await mineDataset({ dataDir: data, outDir: mined, embed: base.embed, search: base.search, textKey: base.documentKey, options: { negatives: 3, rankMin: 3, rankMax: 50, seed: 42 }, model: { path: baseModel }, signal: o.signal });
      log(`mined ${m.meta.mining.counts.mined} hard negatives (ranks 4–50, ${m.meta.mining.counts.shortAnchors} anchors short) into ${mined}`);
    } finally {
      await base.dispose();
    }

    const run = join(paths.runs, 'demo');
    // The defaults for this model: its own length (32; positions past it were never trained) and
    // the learning rate for its width (2e-3 at 64 wide), as `embedsmith train` would take them.
    const { maxLength, lr } = modelTrainDefaults(await readModelLimits(baseModel));
    const settings: TrainSettings = {
      // Every row's default, settings registered at run time included.
      ...trainDefaults(),
      model: baseModel, data: mined, eval: data, epochs, batchSize: 32, lr, warmup: 0.1, maxLength, seed: 42,
      device, precision, template: { query: '', document: '' }, threads: availableParallelism(),
    };
    const searcher = createSearcher({ device: 'cpu' });
    let r;
    try {
      r = await trainRun(settings, run, {
        signal: o.signal,
        evaluate: trainingEvaluator(data, settings, searcher.search),
        log,
        onProgress: (p) => o.onProgress?.(0.15 + (0.75 * p.step) / p.totalSteps, 1, `${DEMO_STAGES[3]}: step ${p.step}/${p.totalSteps} · loss ${p.loss.toFixed(4)}`),
      });
    } finally {
      await searcher.dispose();
    }
    if (r.cancelled || !r.modelDir) throw new EngineError('CANCELLED', `the demo was stopped during training (step ${r.steps}); run it again to start over`);

    o.onProgress?.(0.9, 1, `${DEMO_STAGES[4]}…`);
    const trained = await openModelTools(r.modelDir, { device, precision, signal: o.signal });
    let after: EvalResult;
    try {
      after = await evaluateDataset({ dataDir: data, embed: trained.embed, search: trained.search, signal: o.signal });
    } finally {
      await trained.dispose();
    }
    o.onProgress?.(0.97, 1, `${DEMO_STAGES[5]}…`);
    const exportDir = join(ws, 'export');
    const loaded = await loadEncoderFolder(r.modelDir);
    await rm(exportDir, { recursive: true, force: true });
    await cp(r.modelDir, exportDir, { recursive: true });
    await exportOnnx({ spec: specOfModel(loaded), loaded }, exportDir, { fp32: true, fp16: false });
    log(`exported a sentence-transformers folder with onnx/model.onnx to ${exportDir}`);
    return {
      workspace: ws, before: before.metrics, after: after.metrics, queries: after.counts.evaluated, documents: after.counts.corpus,
      steps: r.steps, seconds: (Date.now() - t0) / 1000, baseModel, dataset: data, mined, run, trained: r.modelDir, exportDir, device: r.device, deviceReason: r.deviceReason,
    };
  } finally {
    await project.close();
  }
}
