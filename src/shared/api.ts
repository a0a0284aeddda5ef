// The one contract between the UI (renderer, browser) and the engine (DESIGN §2, STYLE §2).
// Every adapter — the worker host, Electron IPC, the web bridge — carries exactly these
// methods and events, built from the two lists below, so none of them hand-writes a channel.
// Later issues extend the interface and the lists together; a test checks they agree.
import { checkCallArgs } from './api-args.js';
import { EngineError, type ErrorData } from './errors.js';
import type { DeviceChoice, EvaluateRequest, ExportRequest, ImportRequest, JobProgress, MergeCurveRequest, MergeRequest, MineRequest, TrainPlan, TrainPlanRequest, TrainRequest, UmapRequest } from './jobs.js';
import type { LossInfo } from './losses.js';
import type { InstructionTemplate } from './templates.js';
import type { DatasetDetail, DatasetEdit, DatasetRowView, DatasetRowsQuery, DatasetSummary, ImportPreview, ImportPreviewRequest, ModelSummary, ProjectTemplates, ProjectionView, RunView, TemplatePreviewRequest } from './views.js';

export * from './errors.js';
export * from './model-id.js';
export * from './jobs.js';
export * from './losses.js';
export * from './views.js';

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
  /** The training losses this engine has (train/losses/index.ts), for the Training page's picker. */
  losses: LossInfo[];
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
   * The first `limit` rows (20; at most 200) of a file as importDataset with the same options
   * would read, map and check them, and what it found (encoding, delimiter, columns, format);
   * writes nothing and stops reading after those rows. NOT_FOUND for a missing file; BAD_INPUT
   * naming the setting or line for an unreadable encoding, a bad delimiter, or a mapping the
   * columns do not allow (its `details.columns` lists the columns found).
   */
  previewImport(request: ImportPreviewRequest): Promise<ImportPreview>;
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
  /** The step plan a run with these settings will follow (reads the dataset, not the model): its steps and evaluations, for the pre-flight. */
  planTraining(request: TrainPlanRequest): Promise<TrainPlan>;
  projectEmbeddings(request: UmapRequest): Promise<{ jobId: string }>;
  /**
   * Runs the bundled demo (import → mine → train → evaluate → export) into `workspace`
   * (default: '<defaultProjectsDir>/Embedsmith demo', an earlier demo there is replaced) as a
   * compute job; open the workspace as a project when it is done.
   */
  runDemo(request: { workspace?: string; device?: DeviceChoice }): Promise<{ jobId: string }>;
  /** Writes a model as a sentence-transformers folder and/or ONNX (fp32, fp16) as a job. */
  exportModel(request: ExportRequest): Promise<{ jobId: string }>;
  /**
   * The merge slider's curve as a compute job: domain and general-set metrics at evenly spaced
   * α (default 11 points); progress counts points; the done event's result is a MergeCurveJobResult.
   */
  mergeCurve(request: MergeCurveRequest): Promise<{ jobId: string }>;
  /** Writes (1 − α)·base + α·tuned as a model folder (a job); BAD_INPUT for α outside [0, 1] or models that do not match. */
  mergeModel(request: MergeRequest): Promise<{ jobId: string }>;

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
  /**
   * The instruction templates saved in a project (PROJECT/templates.json; none when the file is
   * absent) and which one the app trains with. NOT_FOUND when `projectDir` is not a project.
   */
  listTemplates(projectDir: string): Promise<ProjectTemplates>;
  /**
   * Saves (or replaces) the template `name` in the project, atomically; `active: true` also makes
   * it the one the app trains with. BAD_INPUT naming the field and a fix when the name is empty,
   * a role is missing, {text} appears twice or is misspelt, or the name is a preset's but the
   * template differs from it. Answers the project's templates after the save.
   */
  saveTemplate(projectDir: string, name: string, template: InstructionTemplate, options?: { active?: boolean }): Promise<ProjectTemplates>;
  /** Removes the template `name` (the active one leaves none active); NOT_FOUND when there is no such template. */
  deleteTemplate(projectDir: string, name: string): Promise<ProjectTemplates>;
  /** Training runs of the open project (PROJECT/runs/*), newest first. */
  listRuns(): Promise<{ dir: string; name: string; steps: number; done: boolean }[]>;
  readRun(dir: string): Promise<RunView>;
  /** A projection file of any version; ones written before neighbours were kept come back without `neighbours`. SCHEMA when malformed or newer. */
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
  'previewImport',
  'editDataset',
  'undoDatasetEdit',
  'redoDatasetEdit',
  'evaluateModel',
  'trainModel',
  'planTraining',
  'projectEmbeddings',
  'exportModel',
  'mergeCurve',
  'mergeModel',
  'runDemo',
  'listDatasets',
  'describeDataset',
  'readDatasetRows',
  'splitDataset',
  'describeModel',
  'listCachedModels',
  'previewTemplate',
  'listTemplates',
  'saveTemplate',
  'deleteTemplate',
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
  const bad = checkCallArgs(method, args);
  if (bad) return { ok: false, error: bad };
  try {
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await fn.apply(api, args as unknown[]) };
  } catch (err) {
    return { ok: false, error: EngineError.toData(err) };
  }
}
