import { describe, expect, it } from 'vitest';
import { EngineError, type ErrorData } from '../../../shared/api.js';
import { LatestAnswer } from './latest-answer.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('LatestAnswer', () => {
  it('hands on only the answer to the latest question, whatever order answers come back in', async () => {
    const latest = new LatestAnswer();
    const seen: string[] = [];
    const first = deferred<string>();
    const second = deferred<string>();
    latest.take(first.promise, (v) => seen.push(v), () => seen.push('error'));
    latest.take(second.promise, (v) => seen.push(v), () => seen.push('error'));
    second.resolve('new');
    await settle();
    first.resolve('old'); // slower, and stale
    await settle();
    expect(seen).toEqual(['new']);
  });

  it("hands on a fresh failure as the engine's error data, and drops a stale one", async () => {
    const latest = new LatestAnswer();
    const errors: ErrorData[] = [];
    const stale = deferred<number>();
    latest.take(stale.promise, () => {}, (e) => errors.push(e));
    latest.take(Promise.reject(new EngineError('NOT_FOUND', 'no such folder: /x')), () => {}, (e) => errors.push(e));
    stale.reject(new Error('late'));
    await settle();
    expect(errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', message: 'no such folder: /x' })]);
  });

  it('still() shares one question between several calls; forget() makes all of them stale', () => {
    const latest = new LatestAnswer();
    const asked = latest.ask();
    const alongside = latest.still();
    expect([asked(), alongside()]).toEqual([true, true]);
    latest.forget();
    expect([asked(), alongside()]).toEqual([false, false]);
    const next = latest.ask();
    expect(next()).toBe(true);
    expect(asked()).toBe(false);
  });
});
