// For tests only (never imported by the app): an in-memory EngineApi that follows the
// contract's documented behaviour — errors as EngineError with the codes the real engine
// uses, `onProjectChanged` after every change, job events as the job registry sends them —
// so UI tests exercise real code paths.
import {
  EngineError,
  modelIdProblem,
  type EngineApi,
  type EngineInfo,
  type FolderDialogOptions,
  type ErrorData,
  type JobProgress,
  type ProjectInfo,
  type PulledModel,
  type RecentProject,
  type MineRequest,
  type EvaluateRequest,
  type TrainPlan,
  type TrainPlanRequest,
  type TrainRequest,
  type UmapRequest,
  type ImportRequest,
  type ImportPreview,
  type ImportPreviewRequest,
  type DatasetEdit,
  type DatasetDetail,
  type DatasetRowView,
  type DatasetRowsQuery,
  type DatasetSummary,
  type ExportRequest,
  type MergeCurveRequest,
  type MergeRequest,
  type ModelSummary,
  type ProjectionView,
  type RunView,
  type TemplatePreviewRequest,
  type ProjectTemplates,
} from '../../../shared/api.js';
import { savedTemplateProblem, type InstructionTemplate } from '../../../shared/templates.js';

export interface FakeEngineOptions {
  info?: Partial<EngineInfo>;
  /** What chooseFolder returns (only when nativeDialogs is true). */
  chosenFolder?: string | null;
}

export class FakeEngine implements EngineApi {
  info: EngineInfo;
  /** Folders holding a project, by path. Delete one to make its recent entry "missing". */
  projects = new Map<string, ProjectInfo>();
  /** Folders that exist but are not projects (createProject refuses non-empty ones). */
  otherFolders = new Set<string>();
  recents: { dir: string; name: string; openedAt: string }[] = [];
  open: ProjectInfo | null = null;
  chosenFolder: string | null;
  /** Every call, in order, as `method(arg, …)` names for assertions. */
  calls: { method: string; args: unknown[] }[] = [];
  #clock = Date.UTC(2026, 10, 1, 12, 0, 0);
  #projectListeners = new Set<(p: ProjectInfo | null) => void>();
  #jobListeners = new Set<(p: JobProgress) => void>();
  /** Every job's latest event, in start order (what listJobs answers). */
  jobs = new Map<string, JobProgress>();
  #jobCount = 0;

  constructor(options: FakeEngineOptions = {}) {
    this.info = {
      version: '0.1.0-test',
      host: 'web-bridge',
      platform: 'linux',
      node: 'v20.0.0',
      nativeDialogs: false,
      defaultProjectsDir: '/home/ada/Embedsmith',
      // A stand-in for the engine's registry (train/losses/index.ts): the page shows whatever list it is given.
      losses: [
        { name: 'infonce', title: 'InfoNCE', formats: ['pairs', 'triplets', 'scored'], auto: ['pairs', 'triplets'], doc: 'in-batch and mined negatives', cite: 'van den Oord et al. 2018' },
        { name: 'supcon', title: 'SupCon', formats: ['labeled'], auto: ['labeled'], doc: 'same-label texts are positives', cite: 'Khosla et al. 2020' },
      ],
      ...options.info,
    };
    this.chosenFolder = options.chosenFolder ?? null;
  }

  async getEngineInfo(): Promise<EngineInfo> {
    this.#log('getEngineInfo');
    return this.info;
  }

  async createProject(dir: string, name: string): Promise<ProjectInfo> {
    this.#log('createProject', dir, name);
    if (!name) throw new EngineError('BAD_INPUT', 'the project name is empty: type a name');
    if (this.projects.has(dir) || this.otherFolders.has(dir)) {
      throw new EngineError('ALREADY_EXISTS', `${dir} is not empty: choose an empty or new folder`);
    }
    const now = this.#now();
    const info: ProjectInfo = { dir, name, schemaVersion: 1, createdAt: now, updatedAt: now };
    this.projects.set(dir, info);
    return this.#setOpen(info);
  }

  async openProject(dir: string): Promise<ProjectInfo> {
    this.#log('openProject', dir);
    const info = this.projects.get(dir);
    if (!info) throw new EngineError('NOT_FOUND', `no Embedsmith project in ${dir}: project.json is missing`);
    return this.#setOpen(info);
  }

  async currentProject(): Promise<ProjectInfo | null> {
    this.#log('currentProject');
    return this.open;
  }

  async renameProject(name: string): Promise<ProjectInfo> {
    this.#log('renameProject', name);
    if (!this.open) throw new EngineError('NOT_FOUND', 'no project is open: open one first');
    const info = { ...this.open, name, updatedAt: this.#now() };
    this.projects.set(info.dir, info);
    return this.#setOpen(info);
  }

  async closeProject(): Promise<void> {
    this.#log('closeProject');
    this.open = null;
    this.#emit(null);
  }

  async listRecentProjects(): Promise<RecentProject[]> {
    this.#log('listRecentProjects');
    return this.recents.map((r) => ({ ...r, name: this.projects.get(r.dir)?.name ?? r.name, exists: this.projects.has(r.dir) }));
  }

  async forgetRecentProject(dir: string): Promise<RecentProject[]> {
    this.#log('forgetRecentProject', dir);
    this.recents = this.recents.filter((r) => r.dir !== dir);
    return this.listRecentProjects();
  }

  async chooseFolder(options: FolderDialogOptions): Promise<string | null> {
    this.#log('chooseFolder', options);
    if (!this.info.nativeDialogs) throw new EngineError('UNSUPPORTED', 'folder dialogs exist only in the desktop app: type the path');
    return this.chosenFolder;
  }

  /** Starts a pull that stays running until the test calls progressJob / finishPull / failJob. */
  async pullModel(repo: string): Promise<{ jobId: string }> {
    this.#log('pullModel', repo);
    const problem = modelIdProblem(repo);
    if (problem) throw new EngineError('BAD_INPUT', `'${repo}' is not a model id; write ORG/NAME or ORG/NAME@REVISION (${problem})`);
    const subject = repo.includes('@') ? repo : `${repo}@main`;
    const jobId = `pull-model-${++this.#jobCount}`;
    // As the registry does: the first event goes out before the call answers.
    this.emitJob({ jobId, kind: 'pull-model', subject, state: 'running', fraction: null, message: `Asking the hub about ${subject}…` });
    return { jobId };
  }

  /** Compute jobs: each starts queued in the 'compute' lane and waits for the test to drive it. */
  async importDataset(request: ImportRequest): Promise<{ jobId: string }> {
    return this.#computeJob('import', 'importDataset', request.file);
  }
  async editDataset(dir: string, edit: DatasetEdit): Promise<{ editId: number; warnings: string[] }> {
    this.#log('editDataset', dir, edit);
    return { editId: ++this.#jobCount, warnings: [] };
  }
  async undoDatasetEdit(dir: string): Promise<{ editId: number }> {
    this.#log('undoDatasetEdit', dir);
    return { editId: ++this.#jobCount };
  }
  async redoDatasetEdit(dir: string): Promise<{ editId: number }> {
    this.#log('redoDatasetEdit', dir);
    return { editId: ++this.#jobCount };
  }
  async mineNegatives(request: MineRequest): Promise<{ jobId: string }> {
    return this.#computeJob('mine', 'mineNegatives', request.dataset);
  }
  async evaluateModel(request: EvaluateRequest): Promise<{ jobId: string }> {
    return this.#computeJob('evaluate', 'evaluateModel', request.model);
  }
  async trainModel(request: TrainRequest): Promise<{ jobId: string }> {
    return this.#computeJob('train', 'trainModel', request.out);
  }
  async projectEmbeddings(request: UmapRequest): Promise<{ jobId: string }> {
    return this.#computeJob('umap', 'projectEmbeddings', request.dataset);
  }
  #computeJob(kind: string, method: string, subject: string): { jobId: string } {
    this.#log(method, subject);
    const jobId = `${kind}-${++this.#jobCount}`;
    this.emitJob({ jobId, kind, subject, state: 'queued', fraction: null, message: 'Waiting for the device…' });
    return { jobId };
  }

  async runDemo(request: { workspace?: string }): Promise<{ jobId: string }> {
    return this.#computeJob('demo', 'runDemo', request.workspace ?? `${this.info.defaultProjectsDir}/Embedsmith demo`);
  }
  async exportModel(request: ExportRequest): Promise<{ jobId: string }> {
    return this.#computeJob('export', 'exportModel', request.out);
  }

  /** Merge requests as sent (the slider's curve and the exported point), for assertions. */
  mergeRequests: (MergeCurveRequest | MergeRequest)[] = [];
  async mergeCurve(request: MergeCurveRequest): Promise<{ jobId: string }> {
    this.mergeRequests.push(structuredClone(request));
    return this.#computeJob('merge-curve', 'mergeCurve', request.tuned);
  }
  async mergeModel(request: MergeRequest): Promise<{ jobId: string }> {
    this.mergeRequests.push(structuredClone(request));
    return this.#computeJob('merge', 'mergeModel', request.out);
  }

  // Read side: tests fill these maps; unknown folders are NOT_FOUND, as the engine says.
  datasets: DatasetSummary[] = [];
  datasetDetails = new Map<string, DatasetDetail>();
  datasetRows = new Map<string, DatasetRowView[]>();
  models = new Map<string, ModelSummary>();
  runs = new Map<string, RunView>();
  projections = new Map<string, ProjectionView>();
  #found<T>(map: Map<string, T>, key: string, what: string): T {
    const v = map.get(key);
    if (v === undefined) throw new EngineError('NOT_FOUND', `${key} is not a ${what} (fake engine)`);
    return v;
  }
  async listDatasets(): Promise<DatasetSummary[]> {
    this.#log('listDatasets');
    return [...this.datasets];
  }
  async describeDataset(dir: string): Promise<DatasetDetail> {
    this.#log('describeDataset', dir);
    return this.#found(this.datasetDetails, dir, 'dataset');
  }
  async readDatasetRows(dir: string, q: DatasetRowsQuery): Promise<{ total: number; rows: DatasetRowView[] }> {
    this.#log('readDatasetRows', dir, q);
    let rows = this.#found(this.datasetRows, dir, 'dataset');
    if (q.label !== undefined) rows = rows.filter((r) => r.label === q.label);
    const n = q.search?.toLowerCase();
    if (n) rows = rows.filter((r) => [r.anchor, r.positive, r.text, ...(r.negatives ?? [])].some((t) => t?.toLowerCase().includes(n)));
    return { total: rows.length, rows: rows.slice(q.offset, q.offset + q.limit) };
  }
  async splitDataset(dir: string, o: { evalFraction: number; seed: number }): Promise<{ train: number; eval: number }> {
    this.#log('splitDataset', dir, o);
    const n = this.#found(this.datasetRows, dir, 'dataset').length;
    const e = Math.round(n * o.evalFraction);
    return { train: n - e, eval: e };
  }
  async describeModel(dir: string): Promise<ModelSummary> {
    this.#log('describeModel', dir);
    return this.#found(this.models, dir, 'model folder');
  }
  cachedModels: { repo: string; revision: string; commit: string; dir: string }[] = [];
  async listCachedModels(): Promise<{ repo: string; revision: string; commit: string; dir: string }[]> {
    this.#log('listCachedModels');
    return [...this.cachedModels];
  }
  /**
   * What previewImport answers per file: a preview, or a function of the request (to show the
   * mapping's effect). A missing file is NOT_FOUND and a map naming a column the preview lacks is
   * BAD_INPUT with the columns in its details, as the engine says them.
   */
  importPreviews = new Map<string, ImportPreview | ((r: ImportPreviewRequest) => ImportPreview)>();
  async previewImport(r: ImportPreviewRequest): Promise<ImportPreview> {
    this.#log('previewImport', structuredClone(r));
    const found = this.importPreviews.get(r.file);
    if (!found) throw new EngineError('NOT_FOUND', `${r.file} does not exist. Fix: check the path.`, { file: r.file });
    const p = typeof found === 'function' ? found(r) : found;
    for (const part of (r.map ?? '').split(',').filter(Boolean)) {
      const [role, column] = part.split('=');
      if (!p.columns.includes(column)) {
        const message = `--map ${role}=${column}: column '${column}' not found in ${r.file}; columns are: ${p.columns.join(', ')}. Fix: map the ${role} role to one of them.`;
        throw new EngineError('BAD_INPUT', message, { file: r.file, setting: 'map', column, columns: [...p.columns] });
      }
    }
    return structuredClone(p);
  }
  /** planTraining's answer per dataset folder; absent: 100 examples in full batches. */
  plans = new Map<string, (r: TrainPlanRequest) => Pick<TrainPlan, 'examples' | 'heldOut' | 'steps' | 'negativesPerQuery'>>();
  async planTraining(r: TrainPlanRequest): Promise<TrainPlan> {
    this.#log('planTraining', r);
    const p = this.plans.get(r.dataset)?.(r) ?? { examples: 100, heldOut: 0, steps: Math.ceil(100 / r.batchSize) * r.epochs, negativesPerQuery: 0 };
    const steps = r.maxSteps ?? p.steps;
    const evalEvery = r.evalEvery ?? Math.max(1, Math.ceil(steps / 5));
    const evaluations = evalEvery > 0 ? Math.floor(steps / evalEvery) + (steps % evalEvery ? 1 : 0) : 1;
    return { ...p, steps, meanBatch: (p.examples * r.epochs) / steps, evalEvery, evaluations };
  }
  async previewTemplate(r: TemplatePreviewRequest): Promise<{ final: string; tokens: number | null; truncated: boolean }[]> {
    this.#log('previewTemplate', r);
    return r.texts.map((t) => {
      const final = r.template.includes('{text}') ? r.template.split('{text}').join(t) : r.template + t;
      const tokens = r.model ? final.split(/\s+/).filter(Boolean).length + 2 : null;
      return { final, tokens, truncated: tokens !== null && r.maxLength !== undefined && tokens > r.maxLength };
    });
  }
  /** templates.json per project folder, as the engine keeps it (a missing entry is an empty file). */
  templates = new Map<string, { active: string | null; templates: Map<string, InstructionTemplate> }>();
  #templatesOf(projectDir: string) {
    if (!this.projects.has(projectDir)) throw new EngineError('NOT_FOUND', `${projectDir} is not an Embedsmith project: it has no project.json (fake engine)`);
    let f = this.templates.get(projectDir);
    if (!f) this.templates.set(projectDir, (f = { active: null, templates: new Map() }));
    return f;
  }
  #templatesView(projectDir: string): ProjectTemplates {
    const f = this.#templatesOf(projectDir);
    return { file: `${projectDir}/templates.json`, active: f.active, templates: [...f.templates].map(([name, t]) => ({ name, template: { ...t } })) };
  }
  async listTemplates(projectDir: string): Promise<ProjectTemplates> {
    this.#log('listTemplates', projectDir);
    return this.#templatesView(projectDir);
  }
  async saveTemplate(projectDir: string, name: string, template: InstructionTemplate, options?: { active?: boolean }): Promise<ProjectTemplates> {
    this.#log('saveTemplate', projectDir, name, structuredClone(template), options);
    // The engine's own rules (shared), so the page meets the same refusals here.
    const problem = savedTemplateProblem(name, template);
    if (problem) throw new EngineError('BAD_INPUT', problem.message, { setting: problem.field, name });
    const f = this.#templatesOf(projectDir);
    f.templates.set(name, { query: template.query, document: template.document, text: template.text });
    if (options?.active) f.active = name;
    return this.#templatesView(projectDir);
  }
  async deleteTemplate(projectDir: string, name: string): Promise<ProjectTemplates> {
    this.#log('deleteTemplate', projectDir, name);
    const f = this.#templatesOf(projectDir);
    if (!f.templates.delete(name)) throw new EngineError('NOT_FOUND', `no template '${name}' is saved in ${projectDir}/templates.json`);
    if (f.active === name) f.active = null;
    return this.#templatesView(projectDir);
  }
  async listRuns(): Promise<{ dir: string; name: string; steps: number; done: boolean }[]> {
    this.#log('listRuns');
    return [...this.runs.values()].map((r) => ({ dir: r.dir, name: r.dir.split('/').pop() ?? r.dir, steps: r.metrics.length, done: r.modelDir !== null }));
  }
  async readRun(dir: string): Promise<RunView> {
    this.#log('readRun', dir);
    return this.#found(this.runs, dir, 'training run');
  }
  async readProjection(file: string): Promise<ProjectionView> {
    this.#log('readProjection', file);
    return this.#found(this.projections, file, 'projection');
  }

  async listJobs(): Promise<JobProgress[]> {
    this.#log('listJobs');
    return [...this.jobs.values()];
  }

  async cancel(jobId: string): Promise<boolean> {
    this.#log('cancel', jobId);
    const job = this.jobs.get(jobId);
    if (!job || (job.state !== 'running' && job.state !== 'queued')) return false;
    this.emitJob({ ...job, state: 'cancelled', message: 'Cancelled' });
    return true;
  }

  /** Sends a job event (and remembers it for listJobs). */
  emitJob(p: JobProgress): void {
    this.jobs.set(p.jobId, p);
    for (const l of this.#jobListeners) l(p);
  }

  /** A running job's progress, merged into its last event. */
  progressJob(jobId: string, change: Partial<JobProgress>): void {
    this.emitJob({ ...this.jobs.get(jobId)!, ...change });
  }

  finishPull(jobId: string, result: Partial<PulledModel> = {}): void {
    const job = this.jobs.get(jobId)!;
    const repo = (job.subject ?? 'org/model').split('@')[0];
    const full: PulledModel = {
      repo,
      commit: 'c0ffee'.padEnd(40, '0'),
      dir: `/home/ada/.cache/huggingface/hub/models--${repo.replace('/', '--')}/snapshots/${'c0ffee'.padEnd(40, '0')}`,
      files: ['config.json', 'model.safetensors'],
      downloadedBytes: 90_000_000,
      fromCache: false,
      ...result,
    };
    this.emitJob({ ...job, state: 'done', fraction: 1, message: `Downloaded ${job.subject}`, result: full });
  }

  failJob(jobId: string, error: ErrorData): void {
    this.emitJob({ ...this.jobs.get(jobId)!, state: 'failed', message: 'Failed', error });
  }

  onJobProgress(listener: (p: JobProgress) => void): () => void {
    this.#jobListeners.add(listener);
    return () => this.#jobListeners.delete(listener);
  }

  onProjectChanged(listener: (p: ProjectInfo | null) => void): () => void {
    this.#projectListeners.add(listener);
    return () => this.#projectListeners.delete(listener);
  }

  /** Another client (desktop menu, other tab) changed the open project. */
  changeElsewhere(project: ProjectInfo | null): void {
    this.open = project;
    this.#emit(project);
  }

  get listenerCount(): number {
    return this.#projectListeners.size;
  }

  #setOpen(info: ProjectInfo): ProjectInfo {
    this.open = info;
    this.recents = [{ dir: info.dir, name: info.name, openedAt: this.#now() }, ...this.recents.filter((r) => r.dir !== info.dir)];
    this.#emit(info);
    return info;
  }

  #emit(project: ProjectInfo | null): void {
    for (const l of this.#projectListeners) l(project);
  }

  #now(): string {
    this.#clock += 60_000;
    return new Date(this.#clock).toISOString();
  }

  #log(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }
}
