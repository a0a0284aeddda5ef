// The trainer: runs StepGraphs (contract.ts) built by engine/nn, one session per shape
// bucket, all sharing one StateStore of parameters and AdamW moments that stays on the
// device between steps. Per step it computes AdamW's scalars in float64, draws dropout masks
// from the seed, feeds data + scalars + masks and swaps the updated state in.
//
// The graph work of a step sits behind StepRunner, so a trainer that runs a step as several
// graphs (gradient caching, grad-cache.ts) shares the state, schedule and checkpoint code.

import { EngineError } from '../../../shared/errors.js';
import { type HostTensor, numel } from '../graph/dtype.js';
import type { BucketShape } from './buckets.js';
import { LOSS_SCALE, type ParamSpec, type StateSlot, type StepGraph, STEP_SCALARS, frozenName, packSlot, stateNames, stateSlots, unpackSlot } from './contract.js';
import { KeepMaskBuffers, dropoutKey } from './dropout.js';
import { type ParamState, checkParamKeys, checkShape, dataFeeds, paramFromHost, stateNameMaps } from './params.js';
import { SessionCache } from './session-cache.js';
import type { Device } from './session.js';
import { StateStore, stateOutputLocations } from './state.js';

export interface TrainerOptions extends TrainerBaseOptions {
  /** Builds the step graph for a shape bucket; called once per bucket, lazily. */
  buildStep: (shape: BucketShape) => StepGraph;
}

/** What every trainer takes, whatever graphs run its steps. */
export interface TrainerBaseOptions {
  device: Device;
  /** Starting parameters by HF checkpoint key; must match the step graph's params exactly. */
  initialParams: Map<string, Float32Array>;
  /** Learning rate for the step about to run, given how many steps ran before it (0 first), as torch's LambdaLR. */
  lr: (step: number) => number;
  /** AdamW β1, β2 (default 0.9, 0.999): for the bias corrections; buildStep must bake the same into the graph. */
  betas?: [number, number];
  /** Decoupled weight decay (default 0.01), fed as decay_factor = 1 - lr·wd. */
  weightDecay?: number;
  /** Seed for dropout masks (default 42). */
  seed?: number;
  /** Sequential, deterministic kernels (see SessionOptions.deterministic for what that guarantees). */
  deterministic?: boolean;
  /** Intra-op threads (default os.availableParallelism()). */
  threads?: number;
  /**
   * The loss scale for the step about to run, fed as LOSS_SCALE to mixed-precision step graphs
   * (nn/mixed-precision.ts); the caller's scaler (train/loss-scaler.ts) moves it between steps.
   */
  lossScale?: () => number;
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** 1-based number of this step (AdamW's t). */
  step: number;
}

/** What a checkpoint needs besides the parameters. */
export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export interface Trainer {
  readonly device: Device;
  /** Steps taken so far. */
  readonly stepCount: number;
  /** Session keys built so far (one per shape bucket). */
  readonly buckets: readonly string[];
  step(batch: Readonly<Record<string, Int32Array | Float32Array>>, shape: BucketShape): Promise<StepResult>;
  getParams(): Promise<Map<string, Float32Array>>;
  setParams(params: Map<string, Float32Array>): Promise<void>;
  getOptimizerState(): Promise<OptimizerState>;
  setOptimizerState(state: OptimizerState): Promise<void>;
  /** The live state store (tests and diagnostics: tensor locations). */
  readonly state: StateStore;
  dispose(): Promise<void>;
}

/** One optimizer step's graph work; the trainer around it owns the state, the schedule and the checkpoints. */
export interface StepRunner {
  run(batch: Readonly<Record<string, Int32Array | Float32Array>>, shape: BucketShape, ctx: StepContext): Promise<{ loss: number; gradNorm: number }>;
}

export interface StepContext {
  readonly device: Device;
  /** Sessions of every graph the runner builds (released with the trainer; `Trainer.buckets` lists them). */
  readonly cache: SessionCache;
  readonly state: StateStore;
  readonly seed: number;
  /** Steps taken before this one: dropout masks are keyed by it (dropout.ts, dropoutKey). */
  readonly step: number;
  /** This step's AdamW scalars (contract.ts STEP_SCALARS) as float32 feeds. */
  readonly scalars: Readonly<Record<string, HostTensor>>;
  /** Puts parameters and moments on the device, laid out as `graph` says, on first use; later calls check the layout matches. */
  useParams(graph: Pick<StepGraph, 'params' | 'state' | 'frozen'>, bucket: string): Promise<void>;
  /** The state layout set by the first useParams (null before it). */
  readonly slots: StateSlot[] | null;
}

export async function createTrainer(opts: TrainerOptions): Promise<Trainer> {
  return createTrainerWith(opts, stepGraphRunner(opts.buildStep));
}

/** The plain step: one StepGraph per shape bucket, forward to AdamW in one run. */
function stepGraphRunner(buildStep: (shape: BucketShape) => StepGraph): StepRunner {
  const graphs = new Map<string, Omit<StepGraph, 'model'>>();
  // Masks are redrawn every step into the same buffers: allocating tens of MB a step is waste.
  const masks = new KeepMaskBuffers();
  return {
    async run(batch, shape, ctx) {
      const { device, cache, state } = ctx;
      const key = { kind: 'step', batch: shape.batch, length: shape.length, device };
      const bucket = `${shape.batch}x${shape.length}`;
      const session = await cache.getOrCreate(key, () => {
        const g = buildStep(shape);
        const { model, ...meta } = g;
        graphs.set(bucket, meta);
        const { updates } = stateNameMaps(stateSlots(g));
        return { model, outputLocations: stateOutputLocations(device, Object.keys(updates), ['loss', 'grad_norm']) };
      });
      const graph = graphs.get(bucket)!;
      await ctx.useParams(graph, bucket);
      const feeds = { ...dataFeeds(graph.data, batch), ...ctx.scalars };
      if (graph.dropoutInGraph) {
        if (graph.dropout.length) feeds.dropout_key = { dtype: 'int32', shape: [], data: new Int32Array([dropoutKey(ctx.seed, ctx.step)]) };
      } else {
        const keep = masks.draw(bucket, graph.dropout, ctx.seed, ctx.step);
        graph.dropout.forEach((d, i) => (feeds[d.name] = { dtype: 'bool', shape: d.shape, data: keep[i] }));
      }
      const out = await state.run(session, { feeds, updates: stateNameMaps(stateSlots(graph)).updates, fetch: ['loss', 'grad_norm'] });
      return { loss: out.loss.data[0] as number, gradNorm: out.grad_norm.data[0] as number };
    },
  };
}

/** A Trainer whose steps `runner` runs: createTrainer's plain step, or gradient caching (grad-cache.ts). */
export async function createTrainerWith(opts: TrainerBaseOptions, runner: StepRunner): Promise<Trainer> {
  const { device } = opts;
  const [b1, b2] = opts.betas ?? [0.9, 0.999];
  const wd = opts.weightDecay ?? 0.01;
  const seed = opts.seed ?? 42;
  const cache = new SessionCache({ device, threads: opts.threads, deterministic: opts.deterministic });
  const state = new StateStore(device);
  // Param specs and the state layout come with the first step graph; until then parameters wait on the host.
  let specs: ParamSpec[] | null = null;
  let slots: StateSlot[] | null = null;
  let pending: ParamState = { p: opts.initialParams, m: null, v: null };
  // Frozen parameters (StepGraph.frozen, LoRA's base weights): on the device as 'frozen.<key>'
  // inputs, and on the host for getParams, since they never change. No moments.
  let frozen: { specs: ParamSpec[]; values: Map<string, Float32Array> } | null = null;
  let stepCount = 0;
  let disposed = false;
  // One call at a time: a step must not feed tensors another call is swapping out.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    if (disposed) return Promise.reject(new EngineError('BAD_INPUT', 'the trainer was disposed; create a new one'));
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  async function materialise(graph: Pick<StepGraph, 'params' | 'state' | 'frozen'>): Promise<void> {
    const src = pending;
    if (graph.frozen?.length) {
      const keys = new Set(graph.frozen.map((f) => f.key));
      const values = new Map([...src.p].filter(([k]) => keys.has(k)));
      checkParamKeys(graph.frozen, values, 'frozen parameters');
      for (const f of graph.frozen) await state.set(frozenName(f.key), paramFromHost(f, values, 'frozen parameters'));
      frozen = { specs: graph.frozen, values };
      src.p = new Map([...src.p].filter(([k]) => !keys.has(k)));
    }
    const layout = stateSlots(graph);
    checkParamKeys(graph.params, src.p, 'parameters');
    if (src.m) checkParamKeys(graph.params, src.m, 'optimizer m');
    if (src.v) checkParamKeys(graph.params, src.v, 'optimizer v');
    for (const s of layout) {
      const names = stateNames(s.name);
      await state.set(names.p, slotTensor(s, src.p));
      await state.set(names.m, slotTensor(s, src.m));
      await state.set(names.v, slotTensor(s, src.v));
    }
    specs = graph.params;
    slots = layout;
    pending = { p: new Map(), m: null, v: null };
  }

  async function useParams(graph: Pick<StepGraph, 'params' | 'state' | 'frozen'>, bucket: string): Promise<void> {
    if (!specs) await materialise(graph);
    else sameSpecs(specs, graph.params, bucket, slots!, stateSlots(graph));
  }

  async function stepOnce(batch: Readonly<Record<string, Int32Array | Float32Array>>, shape: BucketShape): Promise<StepResult> {
    checkShape(shape);
    const t = stepCount + 1;
    const lr = opts.lr(stepCount);
    if (!Number.isFinite(lr) || lr < 0) {
      throw new EngineError('BAD_INPUT', `the learning-rate schedule gave ${lr} for step ${stepCount}; it must be a finite number >= 0`);
    }
    // float64 here, one rounding to float32 at the feed: β2^t bias corrections lose digits in float32.
    const values: Record<(typeof STEP_SCALARS)[number], number> = {
      adam_step_size: lr / (1 - b1 ** t),
      adam_inv_bias2: 1 / Math.sqrt(1 - b2 ** t),
      decay_factor: 1 - lr * wd,
    };
    const scalars: Record<string, HostTensor> = {};
    for (const [name, value] of Object.entries(values)) scalars[name] = { dtype: 'float32', shape: [], data: new Float32Array([value]) };
    if (opts.lossScale) scalars[LOSS_SCALE] = { dtype: 'float32', shape: [], data: new Float32Array([opts.lossScale()]) };
    const r = await runner.run(batch, shape, { device, cache, state, seed, step: stepCount, scalars, useParams, slots });
    stepCount = t;
    return { ...r, lr, step: t };
  }

  async function read(kind: 'p' | 'm' | 'v'): Promise<Map<string, Float32Array>> {
    if (!specs) {
      const src = kind === 'p' ? pending.p : pending[kind];
      return new Map([...(src ?? new Map<string, Float32Array>())].map(([k, a]) => [k, a.slice()]));
    }
    const out = new Map<string, Float32Array>();
    for (const s of slots!) unpackSlot(s, (await state.read(`${kind}.${s.name}`)).data as Float32Array, out);
    if (kind === 'p' && frozen) for (const [k, a] of frozen.values) out.set(k, a.slice());
    return out;
  }

  async function write(kind: 'p' | 'm' | 'v', values: Map<string, Float32Array>, what: string): Promise<void> {
    if (!specs) {
      // Empty moments (from getOptimizerState before the first step) mean zeros.
      const copy = kind !== 'p' && values.size === 0 ? null : new Map([...values].map(([k, a]) => [k, a.slice()]));
      pending = { ...pending, [kind]: copy };
      return;
    }
    if (kind === 'p' && frozen) {
      // A checkpoint's parameters hold the frozen ones too: they go back to their inputs.
      const given = new Map([...values].filter(([k]) => frozen!.values.has(k)));
      checkParamKeys(frozen.specs, given, 'frozen parameters');
      for (const f of frozen.specs) await state.set(frozenName(f.key), paramFromHost(f, given, 'frozen parameters'));
      frozen.values = new Map([...given].map(([k, a]) => [k, a.slice()]));
      values = new Map([...values].filter(([k]) => !frozen!.values.has(k)));
    }
    checkParamKeys(specs, values, what);
    for (const s of slots!) await state.set(`${kind}.${s.name}`, slotTensor(s, values));
  }

  return {
    device,
    get stepCount() {
      return stepCount;
    },
    get buckets() {
      return cache.keys();
    },
    state,
    step: (batch, shape) => serial(() => stepOnce(batch, shape)),
    getParams: () => serial(() => read('p')),
    setParams: (params) => serial(() => write('p', params, 'parameters')),
    getOptimizerState: () =>
      serial(async () => {
        // Before the first step, moments are zeros unless a checkpoint set them.
        const zero = !specs && !pending.m;
        const m = zero ? new Map() : await read('m');
        const v = zero ? new Map() : await read('v');
        return { step: stepCount, m, v };
      }),
    setOptimizerState: (s) =>
      serial(async () => {
        if (!Number.isInteger(s.step) || s.step < 0) throw new EngineError('BAD_INPUT', `optimizer step ${s.step} must be an integer >= 0`);
        await write('m', s.m, 'optimizer m');
        await write('v', s.v, 'optimizer v');
        stepCount = s.step;
      }),
    dispose: async () => {
      if (disposed) return;
      await queue;
      disposed = true;
      await cache.releaseAll();
      await state.dispose();
    },
  };
}

/** A slot's state tensor from checked per-key values; zeros where there are none (fresh moments). */
function slotTensor(s: StateSlot, values: ReadonlyMap<string, Float32Array> | null): HostTensor<'float32'> {
  return { dtype: 'float32', shape: s.shape, data: values ? packSlot(s, values) : new Float32Array(numel(s.shape)) };
}

function sameSpecs(a: ParamSpec[], b: ParamSpec[], bucket: string, slotsA: StateSlot[], slotsB: StateSlot[]): void {
  const sig = (ps: ParamSpec[]) => ps.map((p) => `${p.key}[${p.shape.join(',')}]${p.decay ? 'd' : ''}`).join(' ');
  if (sig(a) !== sig(b)) {
    throw new EngineError('INTERNAL', `the step graph for bucket ${bucket} has other params than the first bucket's: ${sig(b)} vs ${sig(a)}`);
  }
  const layout = (ss: StateSlot[]) => ss.map((s) => `${s.name}[${s.shape.join(',')}]`).join(' ');
  if (layout(slotsA) !== layout(slotsB)) {
    throw new EngineError('INTERNAL', `the step graph for bucket ${bucket} lays its state out as ${layout(slotsB)}, the first bucket's as ${layout(slotsA)}`);
  }
}
