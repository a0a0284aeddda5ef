// The one contract between the UI (renderer, browser) and the engine (DESIGN §2, STYLE §2).
// Every adapter — the worker host, Electron IPC, the web bridge — carries exactly these
// methods and events, built from the two lists below, so none of them hand-writes a channel.
// Later issues extend the interface and the lists together; a test checks they agree.
import { EngineError, type ErrorData } from './errors.js';

export * from './errors.js';
export * from './model-id.js';

/** Version of `project.json`; bump with a migration when the shape changes. */
export const PROJECT_SCHEMA_VERSION = 1;

export interface ProjectInfo {
  /** Absolute path of the project folder. */
  dir: string;
  name: string;
  schemaVersion: number;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
}

export interface RecentProject {
  dir: string;
  name: string;
  /** ISO 8601: when it was last opened or created here. */
  openedAt: string;
  /** False when the folder or its project.json has gone since. */
  exists: boolean;
}

export interface EngineInfo {
  version: string;
  /** Where the engine runs: inside the desktop app, or behind the web bridge. */
  host: 'electron' | 'web-bridge' | 'node';
  platform: string;
  node: string;
  /** Native open/save dialogs exist only in the desktop app. */
  nativeDialogs: boolean;
  /** Folder new projects go into by default. */
  defaultProjectsDir: string;
}

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
export type DeviceChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';

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
  settings?: Partial<{
    epochs: number; maxSteps: number | null; batchSize: number; lr: number; warmup: number; schedule: 'linear' | 'constant';
    weightDecay: number; temperature: number; maxLength: number; dropout: number | null; seed: number; shuffle: boolean;
    negatives: number | null; eval: string | null; evalEvery: number; metric: string; patience: number; checkpointEvery: number;
    device: DeviceChoice; template: { query: string; document: string };
  }>;
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
}

export interface UmapRequest {
  model: string;
  dataset: string;
  /** A .json file: {points, labels, texts}. */
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
  format?: 'auto' | 'pairs' | 'triplets' | 'labeled' | 'scored';
  /** 'role=column,…' as --map. */
  map?: string;
  delimiter?: string;
  encoding?: 'auto' | 'utf8' | 'utf16le' | 'utf16be' | 'latin1';
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

/** One edit of a stored dataset's rows; `index` is the stable 0-based row index. */
export type DatasetEdit =
  | { op: 'add'; row: Record<string, unknown> }
  | { op: 'change'; index: number; fields: Record<string, unknown> }
  | { op: 'delete'; index: number }
  | { op: 'relabel'; index: number; label: string };

/** A dataset folder of the open project (PROJECT/datasets/NAME). */
export interface DatasetSummary {
  dir: string;
  name: string;
  format: string;
  rows: number;
  skipped: number;
  warnings: number;
  /** label → rows, for labelled data (and pairs imported with a label column). */
  labels: Record<string, number> | null;
  /** Negatives were mined into it (mining-report.json exists). */
  mined: boolean;
  split: { train: number; eval: number } | null;
  createdAt: string;
}

/** One stored row as the UI shows it; `index` is stable across edits. */
export interface DatasetRowView {
  index: number;
  /** Source line (0 for rows added by an edit). */
  line: number;
  anchor?: string;
  positive?: string;
  negatives?: string[];
  negativeScores?: number[];
  negativeRanks?: number[];
  text?: string;
  label?: string;
  score?: number;
  side: 'train' | 'eval';
}

export interface DatasetRowsQuery {
  offset: number;
  limit: number;
  /** Case-insensitive substring over every text of the row. */
  search?: string;
  label?: string;
}

export interface DatasetDetail {
  summary: DatasetSummary;
  /** report.json: skipped rows first, then warnings (each with line, code, message). */
  issues: { line: number | null; code: string; message: string; severity: 'error' | 'warning' | 'info' }[];
  issueCounts: Record<string, number>;
  /** mining-report.json when the dataset was mined (histograms, rule counts, short anchors). */
  miningReport: unknown;
  /** The undoable edit journal. */
  history: { id: number; op: string; index?: number; time: string; undone: boolean }[];
}

export interface ModelSummary {
  dir: string;
  family: string;
  hidden: number;
  layers: number;
  heads: number;
  vocabSize: number;
  /** Encoder parameters. */
  params: number;
  maxLength: number | null;
  positions: number;
  pooling: string;
  normalize: boolean;
  prompts: Record<string, string>;
  /** What the loader decided on the user's behalf. */
  notes: string[];
}

export interface TemplatePreviewRequest {
  /** A prefix or a format with {text}. */
  template: string;
  texts: string[];
  /** Count tokens with this model's tokenizer (and flag texts over its max length). */
  model?: string;
  maxLength?: number;
}

export interface RunView {
  dir: string;
  /** config.json (every resolved setting). */
  config: Record<string, unknown>;
  /** metrics.jsonl: step, epoch, loss, lr, gradNorm, pairsPerSec, skipped?, eval? */
  metrics: Record<string, unknown>[];
  checkpoints: number[];
  /** RUN/model when the run finished. */
  modelDir: string | null;
}

export interface ProjectionView {
  points: [number, number][];
  labels: (string | null)[];
  texts: string[];
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

export interface FolderDialogOptions {
  title: string;
  /** 'open' picks an existing folder; 'create' may make a new one. */
  mode: 'open' | 'create';
  defaultPath?: string;
}

export type Unsubscribe = () => void;

export interface EngineApi {
  getEngineInfo(): Promise<EngineInfo>;

  // Workspace: a project is a folder on disk (see engine/workspace).
  /** Makes `dir` (empty or absent) a new project and opens it. */
  createProject(dir: string, name: string): Promise<ProjectInfo>;
  /** Opens the project in `dir`, taking its lock; closes the one open before. */
  openProject(dir: string): Promise<ProjectInfo>;
  /** The open project, or null. */
  currentProject(): Promise<ProjectInfo | null>;
  renameProject(name: string): Promise<ProjectInfo>;
  closeProject(): Promise<void>;
  listRecentProjects(): Promise<RecentProject[]>;
  forgetRecentProject(dir: string): Promise<RecentProject[]>;

  /** A native folder dialog; UNSUPPORTED where `nativeDialogs` is false. Null when dismissed. */
  chooseFolder(options: FolderDialogOptions): Promise<string | null>;

  // Jobs: long work runs in the engine as a job; calls that start one return its id at once,
  // and its progress, end state and result arrive through `onJobProgress`.
  /**
   * Downloads a base model from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN) into the shared
   * cache (HF_HUB_CACHE); `repo` is 'ORG/NAME' or 'ORG/NAME@REVISION'. A bad id is refused
   * here with BAD_INPUT; hub errors (NOT_FOUND, BAD_INPUT for 401/403, IO) end the job failed.
   * The done event's `result` is a PulledModel.
   */
  pullModel(repo: string): Promise<{ jobId: string }>;
  /**
   * Compute jobs (mining, evaluation, training, projection) run one at a time in a 'compute'
   * lane (one device job at a time); later ones wait visibly as 'queued'. Each returns at once;
   * the done event's `result` is the kind's JobResultByKind row. Cancelling a training job
   * stops it after the running step with a checkpoint written (resume with resume: true).
   */
  mineNegatives(request: MineRequest): Promise<{ jobId: string }>;
  /** Imports a file as a job (no device; runs at once); the done event's result is an ImportJobResult. */
  importDataset(request: ImportRequest): Promise<{ jobId: string }>;
  /**
   * Edits a dataset's rows through its undoable journal (edits.jsonl; rows.jsonl is never
   * rewritten). Refused with BAD_INPUT naming the field when the row would be invalid.
   */
  editDataset(dir: string, edit: DatasetEdit): Promise<{ editId: number; warnings: string[] }>;
  /** Undoes the newest edit not yet undone; NOT_FOUND-style BAD_INPUT when there is none. */
  undoDatasetEdit(dir: string): Promise<{ editId: number }>;
  redoDatasetEdit(dir: string): Promise<{ editId: number }>;
  evaluateModel(request: EvaluateRequest): Promise<{ jobId: string }>;
  trainModel(request: TrainRequest): Promise<{ jobId: string }>;
  projectEmbeddings(request: UmapRequest): Promise<{ jobId: string }>;
  /**
   * Runs the bundled demo (import → mine → train → evaluate → export) into `workspace`
   * (default: '<defaultProjectsDir>/Embedsmith demo', an earlier demo there is replaced) as a
   * compute job; open the workspace as a project when it is done.
   */
  runDemo(request: { workspace?: string; device?: DeviceChoice }): Promise<{ jobId: string }>;
  /** Writes a model as a sentence-transformers folder and/or ONNX (fp32, fp16) as a job. */
  exportModel(request: ExportRequest): Promise<{ jobId: string }>;

  // Reading what the engine wrote, for the pages. Folders are absolute paths.
  /** Datasets of the open project (PROJECT/datasets/*); [] without a project. */
  listDatasets(): Promise<DatasetSummary[]>;
  describeDataset(dir: string): Promise<DatasetDetail>;
  /** A page of rows, edits applied, filtered; `total` counts the filtered rows. */
  readDatasetRows(dir: string, query: DatasetRowsQuery): Promise<{ total: number; rows: DatasetRowView[] }>;
  /** Seeded split grouped by anchor and stratified by label (writes split.json). */
  splitDataset(dir: string, options: { evalFraction: number; seed: number }): Promise<{ train: number; eval: number }>;
  describeModel(dir: string): Promise<ModelSummary>;
  /** Model snapshots in the Hugging Face cache (pulled here or by Python tools), one per ref. */
  listCachedModels(): Promise<{ repo: string; revision: string; commit: string; dir: string }[]>;
  previewTemplate(request: TemplatePreviewRequest): Promise<{ final: string; tokens: number | null; truncated: boolean }[]>;
  /** Training runs of the open project (PROJECT/runs/*), newest first. */
  listRuns(): Promise<{ dir: string; name: string; steps: number; done: boolean }[]>;
  readRun(dir: string): Promise<RunView>;
  readProjection(file: string): Promise<ProjectionView>;
  /** Jobs running or queued and the 50 most recent finished ones (with results), in start order. */
  listJobs(): Promise<JobProgress[]>;
  /** Asks a queued or running job to stop; resolves false if no such job is queued or running. */
  cancel(jobId: string): Promise<boolean>;

  onJobProgress(listener: (progress: JobProgress) => void): Unsubscribe;
  /**
   * The open project changed (opened, created, renamed or closed) by any client: the desktop
   * menu, another browser tab on the bridge, the UI itself. Null when none is open.
   */
  onProjectChanged(listener: (project: ProjectInfo | null) => void): Unsubscribe;
}

type MethodKeys = { [K in keyof EngineApi]: K extends `on${string}` ? never : K }[keyof EngineApi];
type EventKeys = { [K in keyof EngineApi]: K extends `on${string}` ? K : never }[keyof EngineApi];
export type EngineMethod = MethodKeys;
export type EngineEvent = EventKeys;
export type EventPayload<E extends EngineEvent> = Parameters<Parameters<EngineApi[E]>[0]>[0];

// `satisfies` keeps the lists complete: a method missing here is a type error below.
export const ENGINE_METHODS = [
  'getEngineInfo',
  'createProject',
  'openProject',
  'currentProject',
  'renameProject',
  'closeProject',
  'listRecentProjects',
  'forgetRecentProject',
  'chooseFolder',
  'pullModel',
  'mineNegatives',
  'importDataset',
  'editDataset',
  'undoDatasetEdit',
  'redoDatasetEdit',
  'evaluateModel',
  'trainModel',
  'projectEmbeddings',
  'exportModel',
  'runDemo',
  'listDatasets',
  'describeDataset',
  'readDatasetRows',
  'splitDataset',
  'describeModel',
  'listCachedModels',
  'previewTemplate',
  'listRuns',
  'readRun',
  'readProjection',
  'listJobs',
  'cancel',
] as const satisfies readonly EngineMethod[];
export const ENGINE_EVENTS = ['onJobProgress', 'onProjectChanged'] as const satisfies readonly EngineEvent[];
type Missing<All, Listed> = Exclude<All, Listed>;
// Compile-time check: both are `never` only when the lists name every member.
const _allMethods: Missing<EngineMethod, (typeof ENGINE_METHODS)[number]> extends never ? true : false = true;
const _allEvents: Missing<EngineEvent, (typeof ENGINE_EVENTS)[number]> extends never ? true : false = true;
void _allMethods;
void _allEvents;

export function isEngineMethod(name: unknown): name is EngineMethod {
  return typeof name === 'string' && (ENGINE_METHODS as readonly string[]).includes(name);
}
export function isEngineEvent(name: unknown): name is EngineEvent {
  return typeof name === 'string' && (ENGINE_EVENTS as readonly string[]).includes(name);
}

/** The envelope every call result travels in (IPC, worker, WebSocket). */
export type CallResult = { ok: true; value: unknown } | { ok: false; error: ErrorData };

/** Wire messages shared by the worker host and the web bridge. */
export type WireRequest = { type: 'call'; id: number; method: EngineMethod; args: unknown[] };
export type WireMessage =
  | ({ type: 'result'; id: number } & CallResult)
  | { type: 'event'; event: EngineEvent; payload: unknown };

/** What an adapter must supply to get a full EngineApi. */
export interface EngineTransport {
  call(method: EngineMethod, args: unknown[]): Promise<CallResult>;
  subscribe(event: EngineEvent, listener: (payload: unknown) => void): Unsubscribe;
}

/** The one-line proxy of STYLE §2: an EngineApi over any transport; failures throw EngineError. */
export function createEngineProxy(transport: EngineTransport): EngineApi {
  const api: Record<string, unknown> = {};
  for (const method of ENGINE_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const r = await transport.call(method, args);
      if (!r.ok) throw EngineError.fromData(r.error);
      return r.value;
    };
  }
  for (const event of ENGINE_EVENTS) {
    api[event] = (listener: (payload: unknown) => void) => transport.subscribe(event, listener);
  }
  return api as unknown as EngineApi;
}

/** Runs a method of a local EngineApi, turning a throw into the error envelope. */
export async function dispatchCall(api: EngineApi, method: unknown, args: unknown): Promise<CallResult> {
  if (!isEngineMethod(method)) {
    return { ok: false, error: { code: 'BAD_INPUT', message: `unknown engine method ${JSON.stringify(method)}` } };
  }
  if (!Array.isArray(args)) {
    return { ok: false, error: { code: 'BAD_INPUT', message: `arguments of ${method} must be an array` } };
  }
  try {
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await fn.apply(api, args) };
  } catch (err) {
    return { ok: false, error: EngineError.toData(err) };
  }
}
