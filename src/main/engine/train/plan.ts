// A run's step plan without the model: the examples, the loss the data calls for, and the
// batches the sampler makes. trainRun plans with this, and the Training page's pre-flight asks
// for it, so the estimate is the run's own count. Counting ceil(rows / batch) misses two
// things (issue 15 §6): a mined negative that is another row's positive keeps those rows out of
// one batch (no text twice in a batch), so mined data makes smaller batches and more steps;
// and evaluations every N steps scale with those steps.
import type { TrainPlan, TrainPlanRequest } from '../../../shared/jobs.js';
import { autoEvalEvery } from '../../../shared/train-defaults.js';
import { type Example, type ExampleSet, loadExamples } from './examples.js';
import { type LossUnit, resolveLoss } from './losses/index.js';
import { planSteps } from './sampler.js';
import { TRAIN_DEFAULTS, type TrainSettings } from './settings.js';

export type PlanSettings = Pick<TrainSettings, 'data' | 'batchSize' | 'epochs' | 'maxSteps' | 'seed' | 'shuffle' | 'negatives' | 'loss'>;

export interface RunPlan {
  examples: Example[];
  heldOut: number;
  meta: ExampleSet['meta'];
  /** The loss (--loss, 'auto' resolved by the data's format). */
  loss: LossUnit;
  /** Negatives per query in the step graph (InfoNCE), and whether some queries have fewer. */
  negativesPerQuery: number;
  masked: boolean;
  steps: { epoch: number; examples: number[] }[];
}

/** `beforePlan` sees the example count before the plan is built (trainRun's size pre-flight). */
export async function planRun(s: PlanSettings, o: { beforePlan?: (examples: number) => void } = {}): Promise<RunPlan> {
  const { examples, heldOut, meta } = await loadExamples(s.data, { maxNegatives: s.negatives ?? undefined });
  o.beforePlan?.(examples.length);
  const loss = resolveLoss(s.loss, meta.format);
  const n = loss.negativesPerQuery(examples);
  const masked = examples.some((e) => e.negatives.length < n);
  const texts = (i: number) => [examples[i].query, examples[i].positive, ...examples[i].negatives].filter((t) => t !== '');
  const steps = planSteps(texts, examples.length, { ...s, maxSteps: s.maxSteps ?? undefined, labels: loss.labels?.(examples) });
  return { examples, heldOut, meta, loss, negativesPerQuery: n, masked, steps };
}

/** Steps at which a run evaluates: every `evalEvery` steps and at the end (as trainRun does). */
export function evaluationSteps(steps: number, evalEvery: number): number[] {
  const at = evalEvery > 0 ? Array.from({ length: Math.floor(steps / evalEvery) }, (_, i) => (i + 1) * evalEvery) : [];
  return at[at.length - 1] === steps ? at : [...at, steps];
}

/** EngineApi.planTraining: the run's plan for the pre-flight, from the same code the run plans with. */
export async function planTraining(r: TrainPlanRequest): Promise<TrainPlan> {
  const p = await planRun({
    data: r.dataset, batchSize: r.batchSize, epochs: r.epochs, maxSteps: r.maxSteps ?? null, seed: r.seed ?? TRAIN_DEFAULTS.seed,
    shuffle: r.shuffle ?? TRAIN_DEFAULTS.shuffle, negatives: r.negatives ?? null, loss: r.loss ?? 'auto',
  });
  const steps = p.steps.length;
  const evalEvery = r.evalEvery ?? autoEvalEvery(steps);
  return {
    examples: p.examples.length, heldOut: p.heldOut, steps,
    meanBatch: p.steps.reduce((n, s) => n + s.examples.length, 0) / Math.max(1, steps),
    negativesPerQuery: p.negativesPerQuery, evalEvery, evaluations: evaluationSteps(steps, evalEvery).length,
  };
}
