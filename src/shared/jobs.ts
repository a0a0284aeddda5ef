// Long work as jobs (DESIGN §2, EngineApi's job methods): what each job is asked to do, what it
// leaves when done, and the progress events that report it. Folders are absolute paths.
import type { EncodingChoice, RowFormat } from './dataset-formats.js';
import type { ErrorData } from './errors.js';
import type { TrainRequestSettings, TrainSettingValues } from './train-settings.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** What a finished `pullModel` job leaves: a snapshot in the shared Hugging Face cache. */
export interface PulledModel {
  repo: string;
  /** The 40-hex commit the revision pointed at. */
  commit: string;
  /** The snapshot folder: a complete model folder to load. */
  dir: string;
  /** Files fetched or found; empty when the whole snapshot came from the cache. */
  files: string[];
  downloadedBytes: number;
  fromCache: boolean;
}

/** Which device a compute job runs on ('auto' probes cuda → webgpu → cpu). */
export const DEVICE_CHOICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

/**
 * Numeric precision of a compute job: 'fp16' runs activations and matmuls in float16 with
 * float32 master weights, optimiser state, loss, softmax and LayerNorm statistics (mixed
 * precision); 'auto' takes fp16 on a WebGPU adapter with shader-f16 and fp32 elsewhere.
 */
export const PRECISION_CHOICES = ['fp32', 'fp16', 'auto'] as const;
export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];

/** Mining request: folders are absolute paths (the UI builds them from the project folder). */
export interface MineRequest {
  model: string;
  dataset: string;
  out: string;
  device?: DeviceChoice;
  /** As `embedsmith mine`: negatives, rankMin, rankMax, margin | relativeMargin, maxScore, sampling, seed. */
  options?: { negatives?: number; rankMin?: number; rankMax?: number; margin?: number; relativeMargin?: number; maxScore?: number; sampling?: 'top' | 'random'; seed?: number };
}
export interface MineJobResult {
  dataset: string;
  anchors: number;
  mined: number;
  /** Anchors left with fewer negatives than asked. */
  shortAnchors: number;
}

export interface EvaluateRequest {
  model: string;
  dataset: string;
  split?: 'eval' | 'all';
  k?: number;
  device?: DeviceChoice;
  /** Matryoshka truncation: score the first `dims` dimensions, re-normalised (1 to the model's width). */
  dims?: number;
}
export interface EvaluateJobResult {
  /** 'ndcg@10', 'mrr@10', 'map@100', 'recall@k' … (or 'knn_accuracy', 'knn_macro_f1'). */
  metrics: Record<string, number>;
  queries: number;
  documents: number;
  /**
   * Per query: its text, its relevant documents and the 1-based rank of each (null: beyond the
   * search depth), and its top 10 results as ranked, with scores.
   */
  perQuery: { query: string; ranks: (number | null)[]; relevant?: string[]; retrieved?: { text: string; score: number; relevant: boolean }[] }[];
}

/** `embedsmith train`'s settings; absent ones take the CLI's defaults. */
export interface TrainRequest {
  model: string;
  dataset: string;
  out: string;
  resume?: boolean;
  /** Evaluate the base and the trained model on the shipped general set after training (RUN/general-eval.json); default true. */
  generalEval?: boolean;
  /** Any training setting but model, data and threads (train-settings.ts, the one table). */
  settings?: TrainRequestSettings;
}
/** What a training run with these settings will do, planned by the engine exactly as the run plans it. */
export interface TrainPlanRequest
  extends Pick<TrainSettingValues, 'batchSize' | 'epochs'>, Partial<Pick<TrainSettingValues, 'maxSteps' | 'seed' | 'shuffle' | 'negatives'>> {
  dataset: string;
  /** Evaluate every N steps; 0: only at the end; null or absent: about five times (autoEvalEvery). */
  evalEvery?: number | null;
  /** The loss the run will train with ('auto' or absent: by the dataset's format); it decides the negatives and batches. */
  loss?: string;
}
export interface TrainPlan {
  /** Training examples (split.json's held-out rows excluded) and the held-out count. */
  examples: number;
  heldOut: number;
  steps: number;
  /** Examples per step on average: below the batch size when rows sharing a text (a mined negative that is another row's positive) cannot share a batch. */
  meanBatch: number;
  /** Hard negatives per query the step uses (InfoNCE). */
  negativesPerQuery: number;
  /** The interval used (autoEvalEvery resolved) and the steps that evaluate, the last step included. */
  evalEvery: number;
  evaluations: number;
}

export interface TrainJobResult {
  runDir: string;
  /** RUN/model, or null when the run was stopped (a checkpoint holds its state: resume it). */
  modelDir: string | null;
  steps: number;
  totalSteps: number;
  finalLoss: number | null;
  best: { metric: string; value: number; step: number } | null;
  /** The device the run used ('auto' resolved), and why it was chosen. */
  device: string;
  deviceReason: string;
  /** The precision it trained in ('auto' resolved): 'fp32' or 'fp16'. */
  precision?: string;
  /** The forgetting guard's general-set scores (also RUN/general-eval.json); null when it was off, the run stopped, or it failed (see generalError). */
  general?: GeneralEvalReport | null;
  generalError?: string;
}

/** RUN/general-eval.json: the general-domain set's metrics for the base model and the trained one. */
export interface GeneralEvalReport {
  /** What the set is, for people. */
  set: string;
  queries: number;
  before: Record<string, number>;
  after: Record<string, number>;
}

/** The merge slider's curve: domain and general metrics of (1 − α)·base + α·tuned at `points` evenly spaced α from 0 to 1. */
export interface MergeCurveRequest {
  base: string;
  /** A model folder or a run folder (its model/). */
  tuned: string;
  /** Scored on its eval split when it has one. */
  dataset: string;
  /** 2 to 101; default 11 (steps of 0.1). */
  points?: number;
  device?: DeviceChoice;
}
export interface MergeCurvePoint {
  alpha: number;
  domain: Record<string, number>;
  general: Record<string, number>;
}
export interface MergeCurveJobResult {
  points: MergeCurvePoint[];
}

/** Writes (1 − alpha)·base + alpha·tuned as a model folder. */
export interface MergeRequest {
  base: string;
  tuned: string;
  /** 0 (the base model) to 1 (the tuned one). */
  alpha: number;
  out: string;
}
export interface MergeJobResult {
  dir: string;
  alpha: number;
  /** Tensors interpolated, and what was kept from the tuned model alone. */
  interpolated: number;
  notes: string[];
}

export interface UmapRequest {
  model: string;
  dataset: string;
  /** A .json file: {schemaVersion, points, labels, texts, neighbours} (each text's 10 nearest by cosine); readProjection reads it. */
  out: string;
  seed?: number;
  device?: DeviceChoice;
}
export interface UmapJobResult {
  file: string;
  points: number;
}

/** Importing a CSV/TSV/JSONL/Parquet file into a dataset folder (as `embedsmith import`). */
export interface ImportRequest {
  file: string;
  out: string;
  format?: 'auto' | RowFormat;
  /** 'role=column,…' as --map. */
  map?: string;
  delimiter?: string;
  encoding?: EncodingChoice;
}
export interface ImportJobResult {
  dataset: string;
  format: string;
  rows: number;
  skipped: number;
  warnings: number;
  /** The first 200 findings, skipped rows first (report.json in the folder has them all). */
  issues: { line: number | null; code: string; message: string; severity: 'error' | 'warning' | 'info' }[];
}

export interface ExportRequest {
  model: string;
  out: string;
  formats: ('sentence-transformers' | 'onnx' | 'fp16')[];
}
export interface ExportJobResult {
  dir: string;
  files: string[];
}

/** The demo pipeline's outcome: metrics before/after and the folders it made. */
export interface DemoJobResult {
  workspace: string;
  before: Record<string, number>;
  after: Record<string, number>;
  baseModel: string;
  dataset: string;
  mined: string;
  run: string;
  trained: string;
  exportDir: string;
  /** The device training ran on ('auto' resolved) and why; absent from results made before it was reported. */
  device?: string;
  deviceReason?: string;
}

/**
 * The demo pipeline's stages in order: each of its progress messages starts with one, so the
 * app can say "stage 3 of 6" beside the bar (issue 15 item 17).
 */
export const DEMO_STAGES = ['Importing and splitting the data', 'Evaluating the base model', 'Mining hard negatives', 'Training', 'Evaluating the trained model', 'Exporting the model'] as const;

/** The demo stage a progress message names: its 0-based index, or −1. */
export function demoStage(message: string): number {
  return DEMO_STAGES.findIndex((s) => message.startsWith(s));
}

/** What each job kind produces. */
export interface JobResultByKind {
  'pull-model': PulledModel;
  import: ImportJobResult;
  mine: MineJobResult;
  evaluate: EvaluateJobResult;
  train: TrainJobResult;
  umap: UmapJobResult;
  export: ExportJobResult;
  demo: DemoJobResult;
  'merge-curve': MergeCurveJobResult;
  merge: MergeJobResult;
}
export type JobKind = keyof JobResultByKind;

/** Progress of a long job (mining, training, export …), sent as `onJobProgress`. */
export interface JobProgress {
  jobId: string;
  /** A JobKind for jobs this engine starts; a plain string so relays need not know them all. */
  kind: string;
  /** What the job works on, for people (e.g. 'BAAI/bge-small-en-v1.5@main'). */
  subject?: string;
  state: JobState;
  /** 0..1, or null while unknown. */
  fraction: number | null;
  message: string;
  /** Work done and in all, in `unit`s, when the job counts it (bytes of a download, steps). */
  done?: number;
  total?: number;
  unit?: 'bytes' | 'items' | 'steps';
  /** Units per second and seconds left, when the job can tell. */
  rate?: number;
  etaSeconds?: number;
  error?: ErrorData;
  /**
   * Set on the 'done' event (and kept in listJobs) only: what the job produced, shaped by its
   * kind — read it with `jobResult(progress, kind)`. There is no separate getJobResult call.
   */
  result?: JobResultByKind[JobKind];
}

/** The result of a finished job of `kind`, or undefined (other kind, not done yet). */
export function jobResult<K extends JobKind>(p: JobProgress, kind: K): JobResultByKind[K] | undefined {
  return p.kind === kind && p.state === 'done' ? (p.result as JobResultByKind[K] | undefined) : undefined;
}
