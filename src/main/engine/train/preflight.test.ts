import { describe, expect, it } from 'vitest';
import { estimateRunSize, preflightRun } from './preflight.js';
import { planSteps } from './sampler.js';

const GiB = 2 ** 30;
const s = (o: { maxSteps?: number | null; epochs?: number; batchSize?: number }) => ({ maxSteps: o.maxSteps ?? null, epochs: o.epochs ?? 1, batchSize: o.batchSize ?? 32 });

describe('preflightRun', () => {
  it('counts the steps the sampler will plan: --max-steps, else epochs × batches', () => {
    const texts = (i: number) => [`q${i}`, `d${i}`];
    for (const o of [s({ maxSteps: 37, batchSize: 8 }), s({ epochs: 3, batchSize: 8 }), s({ epochs: 2, batchSize: 64 })]) {
      const plan = planSteps(texts, 100, { ...o, maxSteps: o.maxSteps ?? undefined, shuffle: true, seed: 1 });
      expect(estimateRunSize(o, 100).steps).toBe(plan.length);
    }
  });

  it('refuses --max-steps 1e7 at batch 32 on an 8 GiB machine, naming the setting, the size and the fix', () => {
    const run = () => preflightRun(s({ maxSteps: 10_000_000 }), 1000, { memoryBytes: 8 * GiB, freeDiskBytes: 100 * GiB }, '/runs/r');
    expect(run).toThrow(/^--max-steps 10000000: a run of 10000000 steps of 32 would need about 4\.2 GiB of memory for its step plan alone, more than a quarter of this machine's 8\.0 GiB .*Fix: give fewer --max-steps/);
    // The same run fits a 64 GiB machine, unless its disk cannot hold the metrics.
    expect(preflightRun(s({ maxSteps: 10_000_000 }), 1000, { memoryBytes: 64 * GiB, freeDiskBytes: 100 * GiB }, '/runs/r').steps).toBe(10_000_000);
    expect(() => preflightRun(s({ maxSteps: 10_000_000 }), 1000, { memoryBytes: 64 * GiB, freeDiskBytes: 1 * GiB }, '/runs/r')).toThrow(
      /metrics\.jsonl would grow to about 1\.4 GiB \(a line per step\), more than the 1\.0 GiB free on the disk of \/runs\/r/,
    );
  });

  it('an epoch count that would not fit names --epochs', () => {
    expect(() => preflightRun(s({ epochs: 100_000, batchSize: 4 }), 1_000_000, { memoryBytes: 16 * GiB, freeDiskBytes: null }, '/r')).toThrow(/^--epochs 100000: .*Fix: give fewer --epochs, or --max-steps/);
    expect(preflightRun(s({ epochs: 3 }), 1000, { memoryBytes: 1 * GiB, freeDiskBytes: null }, '/r').steps).toBe(96);
  });
});
