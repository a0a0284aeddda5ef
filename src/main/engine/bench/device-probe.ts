// Bench: which devices work here and what they cost. Prints selectDevice('auto') with every
// probe, then, on each working device, the toy step graph's timings (graph build, session
// create + first run, steady step, read-back), where its state lived, and how far its
// parameters ended from the CPU's. Run: bench/run.sh device-probe [--steps N] [--batch B]
// [--length L] [--vocab V] [--dim D] [--out K]
//
// At the default toy size these are per-call overheads (session create, shader compile,
// dispatch, transfers), not throughput; --vocab 30522 --dim 384 gives a MiniLM-sized
// embedding table. MiniLM step figures come from train-step once engine/nn exists.

import { probeDevice, selectDevice } from '../runtime/device.js';
import { mulberry32 } from '../../../shared/random.js';
import { DEVICES } from '../runtime/session.js';
import { TOY, buildToyStep, toyBatch, toyInitialParams } from '../runtime/toy.js';
import { type StepTimings, fmtMs, maxParamDiff, shapeLabel, timeSteps } from './step-timer.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} ${process.argv[i + 1]} must be a positive integer`);
  return v;
}

async function main(): Promise<void> {
  const steps = arg('steps', 10);
  const shape = { batch: arg('batch', 4), length: arg('length', 16) };
  const cfg = { ...TOY, vocab: arg('vocab', TOY.vocab), dim: arg('dim', TOY.dim), out: arg('out', TOY.out) };
  const choice = await selectDevice('auto');
  console.log(`auto → ${choice.device}: ${choice.reason}`);
  for (const d of DEVICES) {
    const a = await probeDevice(d);
    console.log(`  ${d.padEnd(7)} ${a.ok ? `ok, probe ${a.ms} ms` : `unavailable: ${a.error}\n          fix: ${a.fix}`}`);
  }
  const batch = toyBatch(mulberry32(1), shape, shape.batch, cfg).data;
  const params = toyInitialParams(cfg);
  console.log(`\ntoy step graph, vocab ${cfg.vocab} dim ${cfg.dim} out ${cfg.out}, ${shapeLabel(shape)}, ${steps} steady steps:`);
  console.log('device   build      create+1st   steady     read-back  state       max|Δp| vs cpu  loss');
  let cpu: StepTimings | null = null;
  for (const d of DEVICES) {
    if (!(await probeDevice(d)).ok) continue;
    const t = await timeSteps(d, shape, (s) => buildToyStep(s, cfg), batch, params, steps);
    cpu ??= t;
    console.log(
      `${d.padEnd(8)} ${fmtMs(t.buildMs).padEnd(10)} ${fmtMs(t.firstStepMs).padEnd(12)} ${fmtMs(t.steadyMs).padEnd(10)} ` +
        `${fmtMs(t.readBackMs).padEnd(10)} ${t.stateLocation.padEnd(11)} ${maxParamDiff(t.params, cpu.params).toExponential(2).padEnd(15)} ${t.loss.toFixed(6)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
