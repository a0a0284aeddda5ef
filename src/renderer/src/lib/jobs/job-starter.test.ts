import { describe, expect, it } from 'vitest';
import { EngineError, type JobProgress } from '../../../../shared/api.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { JobStarter } from './job-starter.svelte.js';
import { JobsState } from './jobs.svelte.js';

const refused = () => Promise.reject(new EngineError('ALREADY_EXISTS', '/p/runs/r1 exists: pick another name'));

describe('JobStarter', () => {
  it('hands a started job to JobsState at once, shown as starting until its first event', async () => {
    const engine = new FakeEngine();
    const jobs = new JobsState(engine);
    const starter = new JobStarter(jobs);
    expect(await starter.start('import', async () => ({ jobId: 'j1' }), '/home/ada/faq.csv')).toBe('j1');
    expect(jobs.latest('import')).toEqual({ jobId: 'j1', kind: 'import', subject: '/home/ada/faq.csv', state: 'queued', fraction: null, message: 'Starting…' });
    const running: JobProgress = { jobId: 'j1', kind: 'import', state: 'running', fraction: 0.5, message: 'reading' };
    engine.emitJob(running);
    expect(jobs.get('j1')).toEqual(running);
    // An event that came before the answer is not overwritten by the placeholder.
    engine.emitJob({ ...running, jobId: 'j2' });
    await starter.start('import', async () => ({ jobId: 'j2' }));
    expect(jobs.get('j2')?.state).toBe('running');
  });

  it("keeps a refused call's error (with the engine's message) and starts nothing", async () => {
    const jobs = new JobsState(new FakeEngine());
    const starter = new JobStarter(jobs);
    expect(await starter.start('train', refused)).toBeNull();
    expect(starter.error).toMatchObject({ code: 'ALREADY_EXISTS', message: '/p/runs/r1 exists: pick another name' });
    expect(jobs.all).toEqual([]);
    starter.dismiss();
    expect(starter.error).toBeNull();
  });

  it('starts one thing at a time: a second start while the first is on its way is ignored', async () => {
    const starter = new JobStarter(new JobsState(new FakeEngine()));
    let answer!: (v: { jobId: string }) => void;
    const first = starter.start('mine', () => new Promise((r) => (answer = r)));
    expect(starter.starting).toBe(true);
    expect(await starter.start('mine', async () => ({ jobId: 'second' }))).toBeNull();
    answer({ jobId: 'first' });
    expect(await first).toBe('first');
    expect(starter.starting).toBe(false);
  });

  it('runs several starts as one, stopping at the first refusal', async () => {
    const jobs = new JobsState(new FakeEngine());
    const starter = new JobStarter(jobs);
    const started: string[] = [];
    const result = await starter.run(async (start) => {
      started.push(await start('evaluate', async () => ({ jobId: 'before' })));
      started.push(await start('evaluate', refused));
      started.push(await start('evaluate', async () => ({ jobId: 'never' })));
      return true;
    });
    expect(result).toBeNull();
    expect(started).toEqual(['before']);
    expect(jobs.all.map((j) => j.jobId)).toEqual(['before']);
    expect(starter.error?.code).toBe('ALREADY_EXISTS');
  });
});
