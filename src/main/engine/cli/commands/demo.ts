// `embedsmith demo [--workspace DIR] [--device auto|cpu|webgpu|cuda]` (DESIGN §6): the whole
// pipeline on the bundled demo (resources/demo: a tiny WordNet-pre-trained embedder and the
// web-features dataset) — import → split → evaluate the base model → mine hard negatives →
// train → evaluate again → export — printing what each step did and the metrics before and
// after. The workspace is an ordinary project folder the app can open.
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { EngineError } from '../../../../shared/errors.js';
import { importDataset, splitDataset } from '../../data/index.js';
import { type EvalResult, evaluateDataset } from '../../eval/evaluate.js';
import { exportOnnx } from '../../model/export-onnx.js';
import { loadModelFolder } from '../../model/load.js';
import { specOfModel } from '../../model/open-model.js';
import { openModelTools } from '../../mining/embedder.js';
import { mineDataset } from '../../mining/mine-dataset.js';
import { createSearcher } from '../../mining/search.js';
import { paramSpecs, specFromHfConfig } from '../../nn/index.js';
import type { DevicePref } from '../../runtime/index.js';
import { trainingEvaluator } from '../../train/evaluator.js';
import { trainRun } from '../../train/run.js';
import { TRAIN_DEFAULTS } from '../../train/settings.js';
import { createProject, projectPaths } from '../../workspace/project.js';
import { type Out, UsageError, parseOptions, reportError } from './common.js';

export const DEMO_USAGE = 'usage: embedsmith demo [--workspace DIR] [--device auto|cpu|webgpu|cuda] [--epochs N]';

/** resources/demo, from dist/main/engine/cli/commands or src/main/engine/cli/commands alike. */
export function demoResources(): string {
  return fileURLToPath(new URL('../../../../../resources/demo', import.meta.url));
}

const MARKER = 'embedsmith-demo.json';
const SHOWN = ['ndcg@10', 'mrr@10', 'map@100', 'recall@1', 'recall@10', 'similarity_auc'];

export async function demoCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, { workspace: { type: 'string' }, device: { type: 'string' }, epochs: { type: 'string' } });
    const device = (v.device ?? 'auto') as DevicePref;
    if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu, webgpu or cuda, got '${device}'`);
    const epochs = v.epochs === undefined ? 4 : Number(v.epochs);
    if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError(`--epochs must be a positive integer, got '${v.epochs}'`);
    const ws = resolve(v.workspace ?? 'embedsmith-demo');
    const res = demoResources();
    const baseModel = join(res, 'base-model');
    if (!existsSync(join(baseModel, 'model.safetensors'))) {
      throw new EngineError('NOT_FOUND', `the demo model is missing from ${baseModel}; reinstall, or rebuild it with \`node scripts/make-demo.mjs\``);
    }
    process.once('SIGINT', onSigint);
    const t0 = Date.now();
    const say = (s: string) => out.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
    await freshWorkspace(ws);
    const project = await createProject(ws, 'Embedsmith demo', { holder: `embedsmith demo (pid ${process.pid})` });
    try {
      const paths = projectPaths(ws);
      await writeFile(join(ws, MARKER), JSON.stringify({ createdBy: 'embedsmith demo', at: new Date().toISOString() }) + '\n');
      const data = join(paths.datasets, 'web-features');
      const imp = await importDataset(join(res, 'web-features.csv'), data);
      say(`imported ${imp.meta.counts.rows} web-features pairs (feature name → description) into ${data}`);
      const split = await splitDataset(data, { evalFraction: 0.2, seed: 42 });
      say(`split by anchor: ${split.counts.train} train, ${split.counts.eval} held-out queries`);

      const cacheDir = join(paths.cache, 'embeddings');
      const base = await openModelTools(baseModel, { device, cacheDir, signal: ctl.signal });
      let before: EvalResult;
      const mined = join(paths.datasets, 'web-features-mined');
      try {
        say(`base model: ${base.model.dim}-d tiny BERT on ${base.model.device} (${base.model.deviceReason})`);
        before = await evaluateDataset({ dataDir: data, embed: base.embed, search: base.search, signal: ctl.signal });
        say(`base model on held-out queries: nDCG@10 ${before.metrics['ndcg@10'].toFixed(4)}`);
        const m = await mineDataset({ dataDir: data, outDir: mined, embed: base.embed, search: base.search, options: { negatives: 3, rankMin: 3, rankMax: 50, seed: 42 }, model: { path: baseModel }, signal: ctl.signal });
        say(`mined ${m.meta.mining.counts.mined} hard negatives (ranks 4–50, ${m.meta.mining.counts.shortAnchors} anchors short) into ${mined}`);
      } finally {
        await base.dispose();
      }

      const run = join(paths.runs, 'demo');
      const settings = {
        ...TRAIN_DEFAULTS,
        model: baseModel, data: mined, eval: data, epochs, batchSize: 32, lr: 5e-4, warmup: 0.1, maxLength: 64, seed: 42,
        device, template: { query: '', document: '' }, threads: availableParallelism(),
      };
      const searcher = createSearcher({ device: 'cpu' });
      let r;
      try {
        let last = 0;
        r = await trainRun(settings, run, {
          signal: ctl.signal,
          evaluate: trainingEvaluator(data, settings, searcher.search),
          log: (s) => say(s),
          onProgress: (p) => {
            if (p.step < p.totalSteps && Date.now() - last < 3000) return;
            last = Date.now();
            say(`train step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} (${p.pairsPerSec.toFixed(0)} pairs/s)`);
          },
        });
      } finally {
        await searcher.dispose();
      }
      if (r.cancelled || !r.modelDir) throw new EngineError('CANCELLED', `the demo was stopped during training (step ${r.steps}); run it again to start over`);

      const trained = await openModelTools(r.modelDir, { device, signal: ctl.signal });
      let after: EvalResult;
      try {
        after = await evaluateDataset({ dataDir: data, embed: trained.embed, search: trained.search, signal: ctl.signal });
      } finally {
        await trained.dispose();
      }
      const exportDir = join(ws, 'export');
      const loaded = await loadModelFolder(r.modelDir, { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) });
      await rm(exportDir, { recursive: true, force: true });
      await copyDir(r.modelDir, exportDir);
      await exportOnnx({ spec: specOfModel(loaded), loaded }, exportDir, { fp32: true, fp16: false });
      say(`exported a sentence-transformers folder with onnx/model.onnx to ${exportDir}`);

      out.log('\nHeld-out web-features queries (feature name → its description among all descriptions):');
      out.log(`${'metric'.padEnd(16)}${'before'.padStart(10)}${'after'.padStart(10)}${'change'.padStart(10)}`);
      for (const k of SHOWN) {
        const b = before.metrics[k];
        const a = after.metrics[k];
        if (b === undefined || a === undefined) continue;
        out.log(`${k.padEnd(16)}${b.toFixed(4).padStart(10)}${a.toFixed(4).padStart(10)}${((a - b >= 0 ? '+' : '') + (a - b).toFixed(4)).padStart(10)}`);
      }
      const gain = after.metrics['ndcg@10'] - before.metrics['ndcg@10'];
      out.log(`\n${after.counts.evaluated} queries, ${after.counts.corpus} documents; ${r.steps} training steps in ${((Date.now() - t0) / 1000).toFixed(0)} s total. Project: ${ws}`);
      if (!(gain > 0)) {
        out.error('embedsmith demo: nDCG@10 did not rise on the held-out queries — this is a bug in the demo recipe; please report it');
        return 1;
      }
      return 0;
    } finally {
      await project.close();
    }
  } catch (err) {
    return reportError('demo', DEMO_USAGE, err, out);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** An absent or empty folder, or an earlier demo workspace (which is cleared): never a user's folder. */
async function freshWorkspace(ws: string): Promise<void> {
  const entries = await readdir(ws).catch(() => null);
  if (entries === null || entries.length === 0) return;
  if (!entries.includes(MARKER)) {
    throw new EngineError('ALREADY_EXISTS', `${ws} exists and is not an Embedsmith demo workspace; choose another --workspace (an empty or new folder)`, { path: ws });
  }
  await rm(ws, { recursive: true, force: true });
}

async function copyDir(from: string, to: string): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(from, to, { recursive: true });
}
