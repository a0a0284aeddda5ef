import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineError, type JobProgress, type PulledModel } from '../../../shared/api.js';
import { JobRegistry, type JobContext } from './jobs.js';

const model = (dir: string): PulledModel => ({ repo: 'org/m', commit: 'c'.repeat(40), dir, files: [], downloadedBytes: 0, fromCache: false });

/** A job whose body the test drives by hand: report progress, then finish or fail it. */
function controllable() {
  let ctx!: JobContext;
  let finish!: (dir: string) => void;
  let fail!: (e: unknown) => void;
  const started = vi.fn();
  const run = (c: JobContext) =>
    new Promise<PulledModel>((resolve, reject) => {
      ctx = c;
      started();
      finish = (dir) => resolve(model(dir));
      fail = reject;
      // Like a fetch: an abort rejects the work in flight.
      c.signal.addEventListener('abort', () => reject(c.signal.reason));
    });
  return { run, started, ctx: () => ctx, finish: (d: string) => finish(d), fail: (e: unknown) => fail(e) };
}

let events: JobProgress[];
let jobs: JobRegistry;
const states = (id: string) => events.filter((e) => e.jobId === id).map((e) => e.state);
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  events = [];
  jobs = new JobRegistry({ emit: (p) => events.push(p), minIntervalMs: 100, rateWindowMs: 5000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('JobRegistry', () => {
  it('runs a job to done with its result, and lists it', async () => {
    const c = controllable();
    const id = jobs.start({ kind: 'pull-model', message: 'starting', run: c.run, doneMessage: (r) => `got ${r.dir}` });
    await settle();
    expect(c.started).toHaveBeenCalledOnce();
    expect(jobs.list()).toMatchObject([{ jobId: id, state: 'running', message: 'starting' }]);
    c.finish('/cache/snap');
    await settle();
    expect(states(id)).toEqual(['running', 'done']);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ state: 'done', fraction: 1, message: 'got /cache/snap', result: { dir: '/cache/snap' } });
    expect(jobs.list()).toEqual([last]);
    await expect(jobs.settled(id)).resolves.toEqual(last);
  });

  it('throttles progress to one event per interval and still sends the latest report', async () => {
    const c = controllable();
    const id = jobs.start({ kind: 'pull-model', message: 'go', run: c.run });
    await settle();
    events.length = 0;
    // 1,000 reports over 1 s (one per ms, as a download's chunks might come).
    for (let i = 1; i <= 1000; i++) {
      c.ctx().progress({ message: `chunk ${i}`, done: i * 1000, total: 2_000_000, unit: 'bytes' });
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(events.length).toBeGreaterThanOrEqual(9);
    expect(events.length).toBeLessThanOrEqual(11);
    const times = events.map((e) => Number(e.message.split(' ')[1]));
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(100);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ jobId: id, state: 'running', message: 'chunk 1000', done: 1_000_000, total: 2_000_000, unit: 'bytes', fraction: 0.5 });
    // 1,000 bytes per ms = 1e6 B/s; 1e6 bytes left → about 1 s.
    expect(last.rate).toBeCloseTo(1e6, -3);
    expect(last.etaSeconds).toBeCloseTo(1, 1);
  });

  it('cancel aborts a running job: it ends cancelled, not failed, and later reports are dropped', async () => {
    const c = controllable();
    const id = jobs.start({ kind: 'pull-model', message: 'go', run: c.run });
    await settle();
    c.ctx().progress({ message: 'half', fraction: 0.5 });
    expect(jobs.cancel(id)).toBe(true);
    expect(c.ctx().signal.aborted).toBe(true);
    expect(jobs.cancel(id)).toBe(false); // already asked
    c.ctx().progress({ message: 'late' });
    await settle();
    // 'half' came within the interval after 'running', so it was held, then superseded by
    // the final event, which still carries its fraction.
    expect(states(id)).toEqual(['running', 'cancelled']);
    expect(events.at(-1)).toMatchObject({ state: 'cancelled', fraction: 0.5 });
    expect(events.at(-1)!.error).toBeUndefined();
    expect(events.some((e) => e.message === 'late')).toBe(false);
    expect(jobs.cancel(id)).toBe(false); // finished
    expect(jobs.cancel('no-such-job')).toBe(false);
  });

  it('a job that finishes despite the cancel is done: its result exists', async () => {
    const c = controllable();
    const run = async (ctx: JobContext) => {
      await c.run(ctx).catch(() => undefined);
      return model('/finished-anyway');
    };
    const id = jobs.start({ kind: 'pull-model', message: 'go', run });
    await settle();
    jobs.cancel(id);
    await settle();
    expect(events.at(-1)).toMatchObject({ state: 'done', result: { dir: '/finished-anyway' } });
  });

  it('a failure ends failed with the error data; a plain Error becomes INTERNAL; nothing is left unhandled', async () => {
    const c1 = controllable();
    const a = jobs.start({ kind: 'pull-model', message: 'a', run: c1.run });
    const b = jobs.start({
      kind: 'pull-model',
      message: 'b',
      run: () => {
        throw new Error('boom'); // synchronous throw
      },
    });
    await settle();
    c1.fail(new EngineError('NOT_FOUND', 'model not found: org/x', { repo: 'org/x' }));
    await settle();
    expect(jobs.get(a)).toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND', message: 'model not found: org/x', details: { repo: 'org/x' } } });
    expect(jobs.get(b)).toMatchObject({ state: 'failed', error: { code: 'INTERNAL', message: 'boom' } });
    expect(states(a)).toEqual(['running', 'failed']);
  });

  it('jobs in one lane run one at a time; a queued one can be cancelled without ever running', async () => {
    const [c1, c2, c3] = [controllable(), controllable(), controllable()];
    const id1 = jobs.start({ kind: 'pull-model', message: '1', lane: 'gpu', run: c1.run });
    const id2 = jobs.start({ kind: 'pull-model', message: '2', lane: 'gpu', run: c2.run });
    const id3 = jobs.start({ kind: 'pull-model', message: '3', lane: 'gpu', run: c3.run });
    const free = controllable();
    jobs.start({ kind: 'pull-model', message: 'free', run: free.run });
    await settle();
    expect([c1.started, c2.started, c3.started, free.started].map((f) => f.mock.calls.length)).toEqual([1, 0, 0, 1]);
    expect(jobs.list().map((p) => [p.message, p.state])).toEqual([
      ['1', 'running'],
      ['2', 'queued'],
      ['3', 'queued'],
      ['free', 'running'],
    ]);
    expect(jobs.cancel(id2)).toBe(true);
    expect(states(id2)).toEqual(['queued', 'cancelled']);
    c1.finish('/1');
    await settle();
    expect(c2.started).not.toHaveBeenCalled();
    expect(c3.started).toHaveBeenCalledOnce();
    expect(states(id1)).toEqual(['running', 'done']);
    expect(states(id3)).toEqual(['queued', 'running']);
  });

  it('keeps only the newest finished jobs, and dispose cancels the rest and waits for them', async () => {
    jobs = new JobRegistry({ emit: (p) => events.push(p), keepFinished: 2 });
    for (let i = 0; i < 4; i++) jobs.start({ kind: 'pull-model', message: `${i}`, run: async () => model(`/${i}`) });
    await settle();
    expect(jobs.list().map((p) => p.message)).toEqual(['Done', 'Done']);
    expect(jobs.list().map((p) => (p.result as { dir?: string } | undefined)?.dir)).toEqual(['/2', '/3']);
    const c = controllable();
    const id = jobs.start({ kind: 'pull-model', message: 'long', run: c.run });
    await settle();
    await jobs.dispose();
    expect(jobs.get(id)?.state).toBe('cancelled');
    await expect(jobs.settled('gone')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
