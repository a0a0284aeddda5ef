// The engine's EngineApi implementation, in-process. The host worker runs it off the UI
// thread; tests and the CLI may call it directly. It holds at most one open project.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  EngineError,
  type EngineApi,
  type EngineInfo,
  type FolderDialogOptions,
  type JobProgress,
  type ProjectInfo,
  type RecentProject,
  type MineRequest,
  type EvaluateRequest,
  type TrainRequest,
  type TrainPlanRequest,
  type UmapRequest,
  type ImportRequest,
  type DatasetEdit,
  type DatasetRowsQuery,
  type ExportRequest,
  type MergeCurveRequest,
  type MergeRequest,
  type TemplatePreviewRequest,
  type ImportPreviewRequest,
} from '../../../shared/api.js';
import type { InstructionTemplate } from '../../../shared/templates.js';
import * as reads from './read-service.js';
import { runDemoPipeline } from '../demo/pipeline.js';
import { importDataset } from '../data/index.js';
import { applyEdit, redoEdit, undoLastEdit } from '../data/edits.js';
import { deleteTemplate, listProjectTemplates, saveTemplate } from '../data/templates.js';
import { COMPUTE_LANE, evaluateJob, exportJob, mergeCurveJob, mergeJob, mineJob, trainJob, umapJob } from './compute-jobs.js';
import { parseRepoArg, pullModel } from '../model/hub.js';
import { hubCacheDir } from '../model/hub-cache.js';
import { JobRegistry } from './jobs.js';
import { ENGINE_VERSION } from '../version.js';
import { createProject, openProject, RecentProjects, type OpenProject } from '../workspace/index.js';
import { setDefaultLockHolder } from '../workspace/lock.js';
import { planTraining } from '../train/plan.js';
import { lossInfos } from '../train/losses/index.js';

export interface EngineServiceOptions {
  /** Where app state lives (recent projects); per user by default. */
  stateDir: string;
  host: EngineInfo['host'];
  /** Who holds a project's lock, shown to a second instance. */
  holder?: string;
  /**
   * True in the desktop app, whose main process answers chooseFolder itself (dialogs
   * belong to the UI thread); the service, wherever it runs, never shows one.
   */
  nativeDialogs?: boolean;
  /**
   * Hugging Face hub settings for pullModel. Absent fields come from the environment, as in
   * `embedsmith pull`: HF_HUB_CACHE / HF_HOME, HF_ENDPOINT, HF_HUB_OFFLINE (tests set them here).
   */
  hub?: { cacheDir?: string; endpoint?: string; offline?: boolean };
  /** Least time between two progress events of one job; default 100 ms. */
  jobProgressIntervalMs?: number;
}

export interface EngineService extends EngineApi {
  /** Releases the open project's lock; call before the process exits. */
  dispose(): Promise<void>;
}

export function defaultStateDir(): string {
  if (process.env.EMBEDSMITH_STATE_DIR) return process.env.EMBEDSMITH_STATE_DIR;
  if (process.platform === 'win32' && process.env.APPDATA) return join(process.env.APPDATA, 'Embedsmith');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Embedsmith');
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'embedsmith');
}

export function createEngineService(options: EngineServiceOptions): EngineService {
  const recent = new RecentProjects(join(options.stateDir, 'recent.json'));
  const progressListeners = new Set<(p: JobProgress) => void>();
  const projectListeners = new Set<(p: ProjectInfo | null) => void>();
  const projectChanged = () => {
    for (const l of projectListeners) l(project ? project.info : null);
  };
  let project: OpenProject | null = null;
  const wsOpts = { holder: options.holder ?? `Embedsmith (${options.host})` };
  // Dataset and run locks taken by this engine's jobs name this program to a second writer.
  setDefaultLockHolder(wsOpts.holder);
  const jobs = new JobRegistry({
    emit: (p) => {
      for (const l of progressListeners) l(p);
    },
    minIntervalMs: options.jobProgressIntervalMs,
  });

  function requireProject(what: string): OpenProject {
    if (!project) throw new EngineError('BAD_INPUT', `no project is open, so ${what} cannot run; create or open a project first`);
    return project;
  }

  async function adopt(next: OpenProject): Promise<ProjectInfo> {
    // The new project is locked before the old one is released: a failed open keeps the old.
    if (project && project.dir !== next.dir) await project.close();
    project = next;
    // What opening did (a stale lock taken over, leftovers swept) goes to the log, not lost.
    for (const note of next.notes) console.warn(`embedsmith: ${note}`);
    await recent.touch(next.info);
    projectChanged();
    return next.info;
  }

  return {
    async getEngineInfo() {
      return {
        version: ENGINE_VERSION,
        host: options.host,
        platform: `${process.platform}-${process.arch}`,
        node: process.versions.node,
        nativeDialogs: options.nativeDialogs ?? false,
        defaultProjectsDir: join(homedir(), 'Embedsmith'),
        losses: lossInfos(),
      };
    },
    async createProject(dir: string, name: string) {
      return adopt(await createProject(dir, name, wsOpts));
    },
    async openProject(dir: string) {
      if (project && project.dir === resolve(dir)) return project.info;
      return adopt(await openProject(dir, wsOpts));
    },
    async currentProject() {
      return project ? project.info : null;
    },
    async renameProject(name: string) {
      const info = await requireProject('rename').rename(name);
      await recent.touch(info);
      projectChanged();
      return info;
    },
    async closeProject() {
      const p = project;
      project = null;
      await p?.close();
      if (p) projectChanged();
    },
    async listRecentProjects(): Promise<RecentProject[]> {
      return recent.list();
    },
    async forgetRecentProject(dir: string) {
      return recent.forget(dir);
    },
    async chooseFolder(_opts: FolderDialogOptions): Promise<string | null> {
      throw new EngineError('UNSUPPORTED', 'native folder dialogs exist only in the desktop app; type the folder path instead');
    },
    async pullModel(arg: string) {
      // A bad id fails the call itself (the form can say so at once); hub errors end the job.
      const { repo, revision } = parseRepoArg(String(arg));
      const name = `${repo}@${revision}`;
      const jobId = jobs.start({
        kind: 'pull-model',
        subject: name,
        message: `Asking the hub about ${name}…`,
        // Pulls of one repository share its blob folder and .incomplete files, so they take
        // turns; pulls of different repositories run side by side.
        lane: `pull:${repo}`,
        run: async ({ signal, progress }) => {
          const r = await pullModel({
            repo: name,
            ...options.hub,
            signal,
            onProgress: (p) =>
              progress({
                message: `${p.file} (file ${Math.min(p.filesDone + 1, p.filesTotal)} of ${p.filesTotal})`,
                done: p.doneBytes,
                total: p.totalBytes,
                unit: 'bytes',
              }),
          });
          return { repo: r.repo, commit: r.commit, dir: r.dir, files: r.files, downloadedBytes: r.downloadedBytes, fromCache: r.fromCache };
        },
        doneMessage: (r) => (r.fromCache ? `${name} was already in the cache` : `Downloaded ${name}`),
      });
      return { jobId };
    },
    async importDataset(request: ImportRequest) {
      return {
        jobId: jobs.start({
          kind: 'import', subject: request.file, message: `Reading ${request.file}…`,
          run: async ({ progress }) => {
            const r = await importDataset(request.file, request.out, { ...request, onProgress: (rows) => progress({ message: `${rows} rows read`, done: rows, unit: 'items' }) });
            const { counts } = r.meta;
            return {
              dataset: r.dir, format: r.meta.format, rows: counts.rows, skipped: counts.skipped, warnings: counts.warnings,
              issues: r.report.issues.slice(0, 200).map((i) => ({ line: i.line, code: i.code, message: i.message, severity: i.severity })),
            };
          },
          doneMessage: (r) => `Imported ${r.rows} rows${r.skipped ? `, ${r.skipped} skipped` : ''}`,
        }),
      };
    },
    async editDataset(dir: string, edit: DatasetEdit) {
      const r = await applyEdit(dir, edit);
      return { editId: r.entry.id, warnings: r.warnings.map((w) => w.message) };
    },
    async undoDatasetEdit(dir: string) {
      return { editId: (await undoLastEdit(dir)).id };
    },
    async redoDatasetEdit(dir: string) {
      return { editId: (await redoEdit(dir)).id };
    },
    async mineNegatives(request: MineRequest) {
      return { jobId: jobs.start({ kind: 'mine', subject: request.dataset, message: 'Waiting for the device…', lane: COMPUTE_LANE, run: (ctx) => mineJob(request, ctx), doneMessage: (r) => `Mined ${r.mined} negatives` }) };
    },
    async evaluateModel(request: EvaluateRequest) {
      return { jobId: jobs.start({ kind: 'evaluate', subject: request.model, message: 'Waiting for the device…', lane: COMPUTE_LANE, run: (ctx) => evaluateJob(request, ctx), doneMessage: (r) => `nDCG@10 ${r.metrics['ndcg@10']?.toFixed(4) ?? '–'}` }) };
    },
    async trainModel(request: TrainRequest) {
      return { jobId: jobs.start({ kind: 'train', subject: request.out, message: 'Waiting for the device…', lane: COMPUTE_LANE, run: (ctx) => trainJob(request, ctx), doneMessage: (r) => `Trained ${r.steps} steps` }) };
    },
    planTraining: (request: TrainPlanRequest) => planTraining(request),
    async projectEmbeddings(request: UmapRequest) {
      return { jobId: jobs.start({ kind: 'umap', subject: request.dataset, message: 'Waiting for the device…', lane: COMPUTE_LANE, run: (ctx) => umapJob(request, ctx), doneMessage: (r) => `Projected ${r.points} texts` }) };
    },
    async runDemo(request: { workspace?: string; device?: 'auto' | 'cpu' | 'webgpu' | 'cuda' }) {
      const workspace = request.workspace ?? join(homedir(), 'Embedsmith', 'Embedsmith demo');
      return {
        jobId: jobs.start({
          kind: 'demo', subject: workspace, message: 'Waiting for the device…', lane: COMPUTE_LANE,
          run: async ({ signal, progress }) => {
            const r = await runDemoPipeline({ workspace, device: request.device, signal, holder: options.holder, onProgress: (done, total, message) => progress({ message, done, total }) });
            const { workspace: ws, before, after, baseModel, dataset, mined, run, trained, exportDir, device, deviceReason } = r;
            return { workspace: ws, before, after, baseModel, dataset, mined, run, trained, exportDir, device, deviceReason };
          },
          doneMessage: (r) => `Demo done: nDCG@10 ${r.before['ndcg@10'].toFixed(3)} → ${r.after['ndcg@10'].toFixed(3)}`,
        }),
      };
    },
    async exportModel(request: ExportRequest) {
      return { jobId: jobs.start({ kind: 'export', subject: request.out, message: 'Exporting…', run: () => exportJob(request), doneMessage: (r) => `Wrote ${r.dir}` }) };
    },
    async mergeCurve(request: MergeCurveRequest) {
      const doneMessage = (r: { points: { length: number } }) => `Scored ${r.points.length} merge points`;
      return { jobId: jobs.start({ kind: 'merge-curve', subject: request.tuned, message: 'Waiting for the device…', lane: COMPUTE_LANE, run: (ctx) => mergeCurveJob(request, ctx), doneMessage }) };
    },
    async mergeModel(request: MergeRequest) {
      return { jobId: jobs.start({ kind: 'merge', subject: request.out, message: 'Merging…', run: () => mergeJob(request), doneMessage: (r) => `Wrote ${r.dir} (α ${r.alpha})` }) };
    },
    listDatasets: async () => reads.listDatasets(project ? project.info.dir : null),
    describeDataset: (dir: string) => reads.describeDataset(dir),
    readDatasetRows: (dir: string, query: DatasetRowsQuery) => reads.readDatasetRows(dir, query),
    splitDataset: (dir: string, o: { evalFraction: number; seed: number }) => reads.split(dir, o),
    describeModel: (dir: string) => reads.describeModel(dir),
    listCachedModels: () => reads.listCachedModels(options.hub?.cacheDir ?? hubCacheDir()),
    previewTemplate: (r: TemplatePreviewRequest) => reads.previewTemplate(r),
    previewImport: (r: ImportPreviewRequest) => reads.previewImport(r),
    listTemplates: (projectDir: string) => listProjectTemplates(projectDir),
    // Only a template object crosses the contract; preset names are the CLI's shorthand.
    saveTemplate: (projectDir: string, name: string, template: InstructionTemplate, o?: { active?: boolean }) =>
      saveTemplate(projectDir, name, typeof template === 'object' && template !== null ? template : ({} as InstructionTemplate), { active: o?.active === true }),
    deleteTemplate: (projectDir: string, name: string) => deleteTemplate(projectDir, name),
    listRuns: async () => reads.listRuns(project ? project.info.dir : null),
    readRun: (dir: string) => reads.readRun(dir),
    readProjection: (file: string) => reads.readProjection(file),
    async listJobs() {
      return jobs.list();
    },
    async cancel(jobId: string) {
      return jobs.cancel(String(jobId));
    },
    onJobProgress(listener) {
      progressListeners.add(listener);
      return () => progressListeners.delete(listener);
    },
    onProjectChanged(listener) {
      projectListeners.add(listener);
      return () => projectListeners.delete(listener);
    },
    async dispose() {
      await jobs.dispose();
      await this.closeProject();
    },
  };
}
