// Bench: where one MiniLM-shape training step spends its time on the CPU EP, from
// onnxruntime's own profiler. Prints time per op type, the heaviest nodes, and the matmuls'
// achieved GFLOP/s; the best rate any large matmul node reached is this machine's practical
// fp32 ceiling, so FLOPs / that rate is a floor no graph change below the matmuls can beat.
//
//   bench/run.sh step-profile [--batch 32] [--length 64] [--negatives 0] [--steps 3]
//                             [--dropout 0] [--layers 6] [--hidden 384] [--threads N] [--top 25]

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTrainStep, paramSpecs } from '../nn/index.js';
import { dropoutKey } from '../runtime/dropout.js';
import { mulberry32 } from '../../../shared/random.js';
import { type HostTensor } from '../graph/dtype.js';
import { flatFeeds } from '../runtime/contract.js';
import { createSession, defaultThreads } from '../runtime/session.js';
import { opt } from './args.js';
import { benchBertSpec } from './bert-shape.js';

const num = (name: string, fallback: number): number => Number(opt(name, String(fallback)));

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

/** 2·M·N·K of a MatMul/Gemm/FusedMatMul event, from its recorded input and output shapes. */
function matmulFlops(e: ProfileEvent): number {
  const ins = (e.args?.input_type_shape ?? []).map((r) => Object.values(r)[0]);
  const outs = (e.args?.output_type_shape ?? []).map((r) => Object.values(r)[0]);
  if (ins.length < 2 || !outs[0]) return 0;
  const out = outs[0];
  const a = ins[0];
  // K is the contracted size: A's last axis unless transposed (Gemm transA / FusedMatMul
  // transA); both give K = numel(A) · numel(B) / ... — simplest exact form: numel(A)·numel(B)
  // over batch, divided by M·N. Use out = [..., M, N]; K = numel(A_matrix)/M where A_matrix is
  // A's last two axes.
  const m = out[out.length - 2] ?? 1;
  const aMat = (a[a.length - 1] ?? 1) * (a[a.length - 2] ?? 1);
  const k = aMat / m;
  const outNumel = out.reduce((x, y) => x * y, 1);
  return 2 * outNumel * k;
}

async function main(): Promise<void> {
  const hidden = num('hidden', 384);
  const p = num('dropout', 0);
  const spec = benchBertSpec(hidden, num('layers', 6), p);
  const queries = num('batch', 32), length = num('length', 64), negatives = num('negatives', 0);
  const steps = num('steps', 3), threads = num('threads', defaultThreads()), top = num('top', 25);

  const step = buildTrainStep(spec, { queries, negativesPerQuery: negatives, length });
  const dir = mkdtempSync(join(tmpdir(), 'step-profile-'));
  const session = await createSession(step.model, { device: 'cpu', threads, profilePrefix: join(dir, 'step') });
  const random = mulberry32(1);
  const init = new Map<string, Float32Array>();
  const zeros = new Map<string, Float32Array>();
  for (const ps of paramSpecs(spec)) {
    const n = ps.shape.reduce((x, y) => x * y, 1);
    init.set(ps.key, Float32Array.from({ length: n }, () => (ps.key.endsWith('LayerNorm.weight') ? 1 : ps.shape.length === 2 ? 0.04 * (random() - 0.5) : 0)));
    zeros.set(ps.key, new Float32Array(n));
  }
  const feeds: Record<string, HostTensor> = flatFeeds(step.params, { p: init, m: zeros, v: zeros });
  for (const d of step.data) {
    const n = d.shape.reduce((x, y) => x * y, 1);
    const data = d.name === 'input_ids' ? Int32Array.from({ length: n }, (_, i) => (i % length === 0 ? 101 : 1000 + Math.floor(random() * 29000)))
      : d.name === 'attention_mask' ? new Int32Array(n).fill(1) : d.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    feeds[d.name] = { dtype: d.dtype, shape: d.shape, data } as HostTensor;
  }
  // Masks are hashed in the graph from one int32 key (nn/device-dropout.ts).
  if (step.dropout.length) feeds.dropout_key = { dtype: 'int32', shape: [], data: Int32Array.of(dropoutKey(1, 0)) };
  feeds.adam_step_size = { dtype: 'float32', shape: [], data: Float32Array.of(1e-4 / 0.1) };
  feeds.adam_inv_bias2 = { dtype: 'float32', shape: [], data: Float32Array.of(1 / Math.sqrt(0.001)) };
  feeds.decay_factor = { dtype: 'float32', shape: [], data: Float32Array.of(1 - 1e-6) };
  const wall: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const t = performance.now();
    await session.run(feeds, ['loss', 'grad_norm']);
    wall.push(performance.now() - t);
  }
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(dir, { recursive: true, force: true });

  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const runs = steps + 1;
  const byOp = new Map<string, { us: number; n: number; flops: number }>();
  const byNode = new Map<string, { op: string; us: number; flops: number }>();
  for (const e of kernels) {
    const op = e.args?.op_name ?? '?';
    const fl = /MatMul|Gemm/.test(op) ? matmulFlops(e) : 0;
    const a = byOp.get(op) ?? { us: 0, n: 0, flops: 0 };
    a.us += e.dur; a.n++; a.flops += fl;
    byOp.set(op, a);
    const node = e.name.replace(/_kernel_time$/, '');
    const b = byNode.get(node) ?? { op, us: 0, flops: 0 };
    b.us += e.dur; b.flops += fl;
    byNode.set(node, b);
  }
  const steadyWall = wall.slice(1).sort((x, y) => x - y)[Math.floor(steps / 2)];
  const totalUs = [...byOp.values()].reduce((s, a) => s + a.us, 0) / runs;
  const mmFlops = [...byOp.values()].reduce((s, a) => s + a.flops, 0) / runs;
  const mmUs = [...byOp.values()].reduce((s, a) => s + (a.flops ? a.us : 0), 0) / runs;
  // The best rate any big matmul node reached: this machine's practical fp32 ceiling here.
  const ceiling = Math.max(...[...byNode.values()].filter((b) => b.flops > 1e9 * runs).map((b) => b.flops / (b.us / 1e6) / 1e9));
  console.log(`step ${queries}×${2 + negatives}×${length}, dropout ${p}: wall median ${steadyWall.toFixed(0)} ms, ` +
    `kernels ${(totalUs / 1000).toFixed(0)} ms/step over ${kernels.length / runs} nodes, peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GiB`);
  console.log(`matmuls: ${(mmFlops / 1e9).toFixed(1)} GFLOP in ${(mmUs / 1000).toFixed(0)} ms (${(mmFlops / mmUs / 1e3).toFixed(0)} GFLOP/s); ` +
    `best node ${ceiling.toFixed(0)} GFLOP/s → all matmuls at that rate: ${(mmFlops / ceiling / 1e6).toFixed(0)} ms; everything else ${((totalUs - mmUs) / 1000).toFixed(0)} ms`);
  console.log('op type              ms/step   share   nodes   GFLOP/s');
  for (const [op, a] of [...byOp].sort((x, y) => y[1].us - x[1].us)) {
    const ms = a.us / runs / 1000;
    if (ms < 1) continue;
    console.log(`${op.padEnd(20)} ${ms.toFixed(1).padStart(7)}   ${((100 * a.us) / runs / totalUs).toFixed(1).padStart(4)}%  ${String(a.n / runs).padStart(5)}   ${a.flops ? (a.flops / (a.us / 1e6) / 1e9).toFixed(1) : ''}`);
  }
  const byScope = new Map<string, number>();
  const scopeOp = new Map<string, number>();
  for (const [node, b] of byNode) {
    const scope = node.split('/')[0];
    byScope.set(scope, (byScope.get(scope) ?? 0) + b.us);
    const key = `${scope} ${/MatMul|Gemm/.test(b.op) ? 'matmuls' : b.op}`;
    scopeOp.set(key, (scopeOp.get(key) ?? 0) + b.us);
  }
  console.log('by scope and op: ' + [...scopeOp].sort((x, y) => y[1] - x[1]).filter(([, us]) => us / runs > 3000)
    .map(([k, us]) => `${k} ${(us / runs / 1000).toFixed(0)}`).join(', '));
  console.log('by scope: ' + [...byScope].sort((x, y) => y[1] - x[1]).map(([s, us]) => `${s} ${(us / runs / 1000).toFixed(0)} ms`).join(', '));
  console.log(`heaviest ${top} nodes:`);
  for (const [node, b] of [...byNode].sort((x, y) => y[1].us - x[1].us).slice(0, top)) {
    console.log(`  ${(b.us / runs / 1000).toFixed(1).padStart(6)} ms  ${b.op.padEnd(14)} ${b.flops ? ((b.flops / (b.us / 1e6)) / 1e9).toFixed(0).padStart(4) + ' GFLOP/s ' : ''}${node}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
