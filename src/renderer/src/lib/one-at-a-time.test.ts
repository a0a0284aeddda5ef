import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/api.js';
import { OneAtATime } from './one-at-a-time.svelte.js';

describe('OneAtATime', () => {
  it('runs one action at a time, saying which, and keeps the error of a failed one until the next starts', async () => {
    const one = new OneAtATime();
    let finish!: () => void;
    const first = one.run('Saving…', () => new Promise<void>((r) => (finish = r)));
    expect(one.doing).toBe('Saving…');
    expect(await one.run('Again', async () => {})).toBe(false); // refused while the first runs
    finish();
    expect(await first).toBe(true);
    expect(one.doing).toBeNull();
    expect(await one.run('Failing', () => Promise.reject(new EngineError('LOCKED', '/p is open in another window')))).toBe(false);
    expect(one.error).toMatchObject({ code: 'LOCKED', message: '/p is open in another window' });
    expect(one.doing).toBeNull();
    expect(await one.run('Next', async () => {})).toBe(true);
    expect(one.error).toBeNull();
    one.fail(new EngineError('IO', 'disk full'));
    expect(one.error?.code).toBe('IO');
    one.dismiss();
    expect(one.error).toBeNull();
  });
});
