import { describe, expect, it } from 'vitest';
import { OneAtATime } from './one-at-a-time.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('OneAtATime', () => {
  it('runs calls in order, never two at once, each with its own result or error', async () => {
    const q = new OneAtATime('thing');
    const log: string[] = [];
    let running = 0;
    const job = (name: string, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const [a, b, c] = [q.run(job('a')), q.run(job('b', true)), q.run(job('c'))];
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b failed');
    await expect(c).resolves.toBe('c');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('close waits for queued calls, refuses new ones naming the object, and is true only once', async () => {
    const q = new OneAtATime('searcher', 'open it again');
    let done = false;
    void q.run(async () => {
      await tick();
      done = true;
    });
    expect(await q.close()).toBe(true);
    expect(done).toBe(true);
    await expect(q.run(async () => 1)).rejects.toThrow('the searcher was disposed; open it again');
    expect(await q.close()).toBe(false);
  });
});
