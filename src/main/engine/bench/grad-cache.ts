// Bench: gradient caching (Gao et al. 2021; runtime/grad-cache.ts) at the MiniLM-L6 shape
// against the plain one-graph step: time per optimizer step, pairs/s and peak RSS. Each run is
// its own child process, since a process's peak RSS (process.resourceUsage().maxRSS) only
// grows. Random weights and tokens: speed and memory do not depend on them.
//
//   bench/run.sh grad-cache [--runs plain:64,gc:1024] [--chunk-rows 128] [--length 64]
//                           [--steps 1] [--layers 6] [--hidden 384] [--dropout 0.1] [--device cpu]
//
// A run is KIND:PAIRS: 'plain' is createTrainer's step of PAIRS pairs (2·PAIRS rows), 'gc' the
// gradient-caching step of PAIRS pairs in chunks of --chunk-rows rows (128 rows = the
// activations of a 64-pair plain step). Each run takes one warm-up step (session creation)
// and then --steps timed steps.

import { execFileSync } from 'node:child_process';
import { MINILM_L6 } from '../model/random-model.js';
import { buildTrainStep, paramSpecs } from '../nn/index.js';
import { gradCacheGraphs } from '../nn/grad-cache.js';
import { mulberry32 } from '../../../shared/random.js';
import { createGradCacheTrainer } from '../runtime/grad-cache.js';
import type { Device } from '../runtime/session.js';
import { type Trainer, type TrainerBaseOptions, createTrainer } from '../runtime/trainer.js';
import { fmtMs } from './step-timer.js';
import { opt, posInt } from './args.js';
import { benchBertSpec } from './bert-shape.js';

const int = posInt;

interface RunResult {
  kind: string;
  pairs: number;
  firstMs: number;
  stepMs: number;
  loss: number;
  rssBeforeGiB: number;
  peakRssGiB: number;
  /** Mean time per timed step in each kind of session run. */
  passes: string;
}

const gib = (kb: number) => kb / 1024 / 1024;

/** One run, in this (child) process: prints its RunResult as the last line. */
async function child(kind: string, pairs: number): Promise<void> {
  const p = Number(opt('dropout', '0.1'));
  const hidden = int('hidden', MINILM_L6.hidden);
  const spec = benchBertSpec(hidden, int('layers', MINILM_L6.layers), p);
  const length = int('length', 64);
  // BERT-style init as bench/train-step.ts: N(0, 0.02) matrices (Box-Muller), LayerNorm weight 1, biases 0.
  const random = mulberry32(1);
  const params = new Map<string, Float32Array>();
  for (const ps of paramSpecs(spec)) {
    const a = new Float32Array(ps.shape.reduce((x, y) => x * y, 1));
    if (ps.key.endsWith('LayerNorm.weight')) a.fill(1);
    else if (ps.shape.length === 2) for (let i = 0; i < a.length; i++) a[i] = 0.02 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    params.set(ps.key, a);
  }
  const rows = 2 * pairs;
  const ids = Int32Array.from({ length: rows * length }, (_, i) => (i % length === 0 ? 101 : 1000 + Math.floor(random() * 29000)));
  const batch = { input_ids: ids, attention_mask: new Int32Array(rows * length).fill(1), token_type_ids: new Int32Array(rows * length) };
  const base: TrainerBaseOptions = { device: opt('device', 'cpu') as Device, initialParams: params, lr: () => 1e-4 };
  const trainer: Trainer =
    kind === 'plain'
      ? await createTrainer({ ...base, buildStep: (s) => buildTrainStep(spec, { queries: s.batch, negativesPerQuery: 0, length: s.length }) })
      : await createGradCacheTrainer({ ...base, graphs: gradCacheGraphs(spec, { negativesPerQuery: 0 }), chunkRows: int('chunk-rows', 128) });
  // Where the time goes: each session run, by what it fetches (the rest of a step is JS: masks, slicing).
  const passMs: Record<string, number> = {};
  const state = trainer.state;
  const run = state.run.bind(state);
  state.run = async (session, o) => {
    const t0 = performance.now();
    try {
      return await run(session, o);
    } finally {
      const pass = o.fetch.includes('sentence_embedding') ? 'embed' : o.fetch.includes('embedding_grad') ? 'loss' : o.fetch.includes('grad_norm') ? (o.fetch.includes('loss') ? 'step' : 'update') : 'backward';
      passMs[pass] = (passMs[pass] ?? 0) + performance.now() - t0;
    }
  };
  const rssBeforeGiB = gib(process.resourceUsage().maxRSS);
  const shape = { batch: pairs, length };
  let t = performance.now();
  let loss = (await trainer.step(batch, shape)).loss;
  const firstMs = performance.now() - t;
  const times: number[] = [];
  for (const k of Object.keys(passMs)) delete passMs[k]; // timed steps only
  const steps = int('steps', 1);
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    loss = (await trainer.step(batch, shape)).loss;
    times.push(performance.now() - t);
  }
  await trainer.dispose();
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  const passes = Object.entries(passMs).map(([k, ms]) => `${k} ${fmtMs(ms / steps)}`).join(', ');
  const js = total - Object.values(passMs).reduce((a, b) => a + b, 0);
  const r: RunResult = {
    kind, pairs, firstMs, stepMs: times[Math.floor(times.length / 2)], loss, rssBeforeGiB, peakRssGiB: gib(process.resourceUsage().maxRSS),
    passes: `${passes}, JS (masks, slicing) ${fmtMs(js / steps)}`,
  };
  console.log(JSON.stringify(r));
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const [kind, pairs] = process.argv[i + 1].split(':');
    return child(kind, Number(pairs));
  }
  const runs = opt('runs', 'plain:64,gc:1024').split(',');
  for (const r of runs) {
    if (!/^(plain|gc):\d+$/.test(r)) throw new Error(`--runs entry '${r}' must be plain:PAIRS or gc:PAIRS, e.g. plain:64,gc:1024`);
  }
  const passOn = process.argv.slice(2).filter((a, k, all) => a !== '--runs' && all[k - 1] !== '--runs');
  console.log(`MiniLM shape (${opt('layers', '6')} layers, hidden ${opt('hidden', '384')}), ${opt('length', '64')} tokens, dropout ${opt('dropout', '0.1')}, ` +
    `device ${opt('device', 'cpu')}; gc chunks of ${opt('chunk-rows', '128')} rows; 1 warm-up + ${opt('steps', '1')} timed step(s)`);
  console.log('run          first step   ms/step     pairs/s   RSS after setup   peak RSS   loss');
  for (const r of runs) {
    const out = execFileSync(process.execPath, [process.argv[1], '--child', r, ...passOn], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    const res = JSON.parse(out.trim().split('\n').pop()!) as RunResult;
    console.log(`${r.padEnd(12)} ${fmtMs(res.firstMs).padEnd(12)} ${fmtMs(res.stepMs).padEnd(11)} ${((res.pairs * 1000) / res.stepMs).toFixed(1).padEnd(9)} ` +
      `${res.rssBeforeGiB.toFixed(2).padStart(6)} GiB        ${res.peakRssGiB.toFixed(2)} GiB   ${res.loss.toFixed(4)}`);
    console.log(`             per step: ${res.passes}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
