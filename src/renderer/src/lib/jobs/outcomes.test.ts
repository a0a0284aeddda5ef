// A finished job's outcome goes into the workbench once, and only into its own project's.
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobProgress, ProjectInfo } from '../../../../shared/api.js';
import { applyOutcome, takeOnce } from './outcomes.js';
import { Workbench } from '../workbench.svelte.js';

const project = (dir: string): ProjectInfo => ({ dir, name: 'p', schemaVersion: 1, createdAt: '', updatedAt: '' });
const mined = (jobId: string, dataset: string): JobProgress => ({
  jobId, kind: 'mine', state: 'done', fraction: 1, message: 'Mined', result: { dataset, anchors: 1, mined: 3, shortAnchors: 0 },
});
const trained = (jobId: string, runDir: string, modelDir: string | null): JobProgress => ({
  jobId, kind: 'train', state: 'done', fraction: 1, message: 'Trained', result: { runDir, modelDir, steps: 4, totalSteps: 4, finalLoss: 1, best: null, device: 'cpu', deviceReason: 'cpu was asked for' },
});

beforeEach(() => localStorage.clear());

describe('applyOutcome', () => {
  it('takes a mined dataset up once, so a later choice of the user stands', () => {
    const wb = new Workbench();
    wb.setProject(project('/p'));
    expect(applyOutcome(mined('mine-1', '/p/datasets/a-mined'), wb)).toBe(true);
    expect(wb.choices.mined).toBe('/p/datasets/a-mined');
    wb.set('mined', '/p/datasets/other');
    expect(applyOutcome(mined('mine-1', '/p/datasets/a-mined'), wb)).toBe(false);
    expect(wb.choices.mined).toBe('/p/datasets/other');
  });

  it('sets run and trained from a finished run; a stopped one has no model to set', () => {
    const wb = new Workbench();
    wb.setProject(project('/p'));
    applyOutcome(trained('train-1', '/p/runs/r', '/p/runs/r/model'), wb);
    expect([wb.choices.run, wb.choices.trained]).toEqual(['/p/runs/r', '/p/runs/r/model']);
    applyOutcome(trained('train-2', '/p/runs/s', null), wb);
    expect([wb.choices.run, wb.choices.trained]).toEqual(['/p/runs/s', '/p/runs/r/model']);
  });

  it('ignores jobs still running and jobs of another project (even one whose path starts alike)', () => {
    const wb = new Workbench();
    wb.setProject(project('/p'));
    expect(applyOutcome({ ...mined('mine-2', '/p/datasets/x'), state: 'running' }, wb)).toBe(false);
    expect(applyOutcome(mined('mine-3', '/p2/datasets/x'), wb)).toBe(false);
    expect(wb.choices.mined).toBeNull();
    expect(applyOutcome(mined('mine-3', '/p/datasets/x'), wb)).toBe(true); // not marked as taken up before
  });
});

describe('takeOnce', () => {
  it('hands a finished job on until a taker uses it, then never again (remembered across reloads)', () => {
    const job = mined('mine-9', '/p/datasets/x');
    const seen: string[] = [];
    expect(takeOnce(job, (j) => (seen.push(`declined ${j.jobId}`), false))).toBe(false);
    expect(takeOnce({ ...job, state: 'running' }, () => true)).toBe(false);
    expect(takeOnce(job, (j) => (seen.push(`used ${j.jobId}`), true))).toBe(true);
    expect(takeOnce(job, () => (seen.push('again'), true))).toBe(false);
    expect(seen).toEqual(['declined mine-9', 'used mine-9']);
    expect(JSON.parse(localStorage.getItem('embedsmith.appliedJobs')!)).toEqual(['mine-9']);
  });
});
