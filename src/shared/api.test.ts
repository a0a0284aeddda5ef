import { describe, expect, it } from 'vitest';
import {
  createEngineProxy,
  decodeBridgedError,
  dispatchCall,
  encodeBridgedError,
  ENGINE_EVENTS,
  ENGINE_METHODS,
  EngineError,
  type EngineApi,
  type EngineTransport,
} from './api.js';

describe('createEngineProxy', () => {
  it('has every listed method and event, and nothing else', () => {
    const api = createEngineProxy({ call: async () => ({ ok: true, value: null }), subscribe: () => () => {} });
    expect(Object.keys(api).sort()).toEqual([...ENGINE_METHODS, ...ENGINE_EVENTS].sort());
  });

  it('passes method and arguments through and returns the value', async () => {
    const seen: unknown[] = [];
    const api = createEngineProxy({
      call: async (method, args) => {
        seen.push(method, args);
        return { ok: true, value: { dir: '/p', name: 'x' } };
      },
      subscribe: () => () => {},
    });
    await expect(api.createProject('/p', 'x')).resolves.toEqual({ dir: '/p', name: 'x' });
    expect(seen).toEqual(['createProject', ['/p', 'x']]);
  });

  it('throws an EngineError carrying the code and message of a failed call', async () => {
    const api = createEngineProxy({
      call: async () => ({ ok: false, error: { code: 'LOCKED', message: 'held by pid 7' } }),
      subscribe: () => () => {},
    });
    const err = await api.openProject('/p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'LOCKED', message: 'held by pid 7' });
  });

  it('routes events to the listener of that event only, until unsubscribed', () => {
    const listeners = new Map<string, Set<(p: unknown) => void>>();
    const transport: EngineTransport = {
      call: async () => ({ ok: true, value: null }),
      subscribe: (event, l) => {
        if (!listeners.has(event)) listeners.set(event, new Set());
        listeners.get(event)!.add(l);
        return () => listeners.get(event)!.delete(l);
      },
    };
    const api = createEngineProxy(transport);
    const got: unknown[] = [];
    const off = api.onProjectChanged((p) => got.push(p));
    for (const l of listeners.get('onProjectChanged')!) l(null);
    expect(listeners.get('onJobProgress')).toBeUndefined();
    off();
    expect(listeners.get('onProjectChanged')!.size).toBe(0);
    expect(got).toEqual([null]);
  });
});

describe('dispatchCall', () => {
  const api = {
    async renameProject(name: string) {
      if (!name) throw new EngineError('BAD_INPUT', 'name is empty; give a name');
      return { name };
    },
    async closeProject() {
      throw new TypeError('boom');
    },
  } as unknown as EngineApi;

  it('refuses names outside the contract', async () => {
    const r = await dispatchCall(api, 'constructor', []);
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
  it('refuses non-array arguments', async () => {
    expect(await dispatchCall(api, 'renameProject', 'x')).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
  it('wraps values and engine errors', async () => {
    expect(await dispatchCall(api, 'renameProject', ['n'])).toEqual({ ok: true, value: { name: 'n' } });
    expect(await dispatchCall(api, 'renameProject', [''])).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'name is empty; give a name' } });
  });
  it('turns unexpected throws into INTERNAL with the message kept', async () => {
    expect(await dispatchCall(api, 'closeProject', [])).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'boom' } });
  });
});

describe('errors across the Electron context bridge', () => {
  it('round-trips code, message and details through a plain Error message', () => {
    const wire = new Error(encodeBridgedError({ code: 'SCHEMA', message: 'project.json is version 9', details: { version: 9 } }));
    const back = decodeBridgedError(wire);
    expect(back).toBeInstanceOf(EngineError);
    expect(back.toData()).toEqual({ code: 'SCHEMA', message: 'project.json is version 9', details: { version: 9 } });
  });
  it('keeps foreign errors as INTERNAL with their message', () => {
    expect(decodeBridgedError(new Error('ipc broke')).toData()).toEqual({ code: 'INTERNAL', message: 'ipc broke' });
  });
});
