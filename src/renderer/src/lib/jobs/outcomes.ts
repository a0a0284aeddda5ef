// A finished job's outcome becomes the workbench's choice once: a mined dataset becomes
// 'mined', a finished run 'run' and 'trained', a projection the Embeddings page's file. Pages
// call this from an effect, so a job that ended while the user was elsewhere is still taken
// up when they come back; the ids already taken up are remembered (one list for every page),
// so a choice the user changed since is not overwritten again.
import { jobResult, type JobProgress } from '../../../../shared/api.js';
import type { Workbench } from '../workbench.svelte.js';

const KEY = 'embedsmith.appliedJobs';
const KEEP = 100;

function applied(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Hands a finished job to `take` unless it was taken up before; `take` says whether it used
 * it (a job of another project is not used, and stays untaken). True when taken now.
 */
export function takeOnce(job: JobProgress | undefined, take: (job: JobProgress) => boolean): boolean {
  if (!job || job.state !== 'done') return false;
  const ids = applied();
  if (ids.includes(job.jobId) || !take(job)) return false;
  localStorage.setItem(KEY, JSON.stringify([...ids, job.jobId].slice(-KEEP)));
  return true;
}

/** True when the job's outcome was put into the workbench now. */
export function applyOutcome(job: JobProgress | undefined, workbench: Workbench): boolean {
  return takeOnce(job, (j) => {
    const mine = jobResult(j, 'mine');
    const train = jobResult(j, 'train');
    const project = workbench.projectDir;
    // A job of another project (opened in another tab, or before a switch) is not this one's.
    const inProject = (dir: string) => !!project && (dir.startsWith(project + '/') || dir.startsWith(project + '\\'));
    if (mine && inProject(mine.dataset)) workbench.set('mined', mine.dataset);
    else if (train && inProject(train.runDir)) {
      workbench.set('run', train.runDir);
      if (train.modelDir) workbench.set('trained', train.modelDir);
    } else return false;
    return true;
  });
}
