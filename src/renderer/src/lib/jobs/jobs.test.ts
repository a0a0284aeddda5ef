import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../../shared/api.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { JobsState } from './jobs.svelte.js';

const job = (jobId: string, state: JobProgress['state']): JobProgress => ({ jobId, kind: 'pull-model', state, fraction: null, message: state });

describe('JobsState.load', () => {
  it("takes the engine's list in start order, but never lets a stale listing undo an end it has seen", async () => {
    const engine = new FakeEngine();
    const jobs = new JobsState(engine);
    engine.emitJob(job('crashed', 'running'));
    engine.emitJob(job('crashed', 'failed')); // the host died; a fresh engine does not list it
    engine.jobs.clear();
    // The listing says 'a' runs, but its done event overtook the listing.
    let answer!: (l: JobProgress[]) => void;
    engine.listJobs = () => new Promise((r) => (answer = r));
    const loading = jobs.load();
    engine.emitJob(job('a', 'done'));
    answer([job('a', 'running'), job('b', 'running')]);
    await loading;
    expect(jobs.all.map((j) => [j.jobId, j.state])).toEqual([
      ['crashed', 'failed'],
      ['a', 'done'],
      ['b', 'running'],
    ]);
    expect(jobs.latest('pull-model')?.jobId).toBe('b');
    jobs.dispose();
    engine.emitJob(job('c', 'running'));
    expect(jobs.get('c')).toBeUndefined(); // unsubscribed
  });
});
