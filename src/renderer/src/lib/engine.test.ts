import { afterEach, describe, expect, it } from 'vitest';
import { encodeBridgedError, EngineError, type ProjectInfo } from '../../../shared/api.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { pickEngine } from './engine.js';

afterEach(() => {
  delete window.engine;
  sessionStorage.clear();
});

describe('pickEngine', () => {
  it('uses the preload’s window.engine when present, and no bridge connection', async () => {
    window.engine = new FakeEngine({ info: { host: 'electron' } });
    const { engine, connection } = pickEngine();
    expect(connection).toBeNull();
    await expect(engine.getEngineInfo()).resolves.toMatchObject({ host: 'electron' });
  });

  it('turns the preload’s packed errors (contextBridge keeps only the message) back into EngineErrors', async () => {
    const fake = new FakeEngine();
    // What a rejection looks like after crossing contextBridge: a plain Error, code in the message.
    fake.openProject = async () => {
      throw new Error(encodeBridgedError({ code: 'LOCKED', message: '/p is open in another Embedsmith window: close it there' }));
    };
    window.engine = fake;
    const err = await pickEngine().engine.openProject('/p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'LOCKED', message: '/p is open in another Embedsmith window: close it there' });
  });

  it('passes the preload’s events through', () => {
    const fake = new FakeEngine();
    window.engine = fake;
    const seen: (ProjectInfo | null)[] = [];
    const off = pickEngine().engine.onProjectChanged((p) => seen.push(p));
    fake.changeElsewhere(null);
    off();
    fake.changeElsewhere(null);
    expect(seen).toEqual([null]);
  });

  it('falls back to the web bridge in a plain browser', () => {
    history.replaceState(null, '', '/');
    const { connection } = pickEngine();
    // No token in this test page: the bridge says so instead of trying to connect.
    expect(connection?.state).toBe('no-token');
  });
});
