import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineError, type JobProgress } from '../../../shared/api.js';
import { connectBridge, TOKEN_KEY, type SocketLike } from './bridge-client.js';

// A WebSocket stand-in driven by the test: it records what the client sends and lets the test
// play the server (open, reply, push events, close with a code).
class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = ''): void {
    this.serverClose(code, reason);
  }
  // --- the server's side ---
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  reply(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason });
  }
}
const last = () => FakeSocket.all[FakeSocket.all.length - 1];

beforeEach(() => {
  FakeSocket.all = [];
  sessionStorage.clear();
  history.replaceState(null, '', '/');
});
afterEach(() => {
  vi.useRealTimers();
});

function connect(url = '/?token=s3cret%2Bx&theme=dark#/data') {
  history.replaceState(null, '', url);
  return connectBridge({ WebSocket: FakeSocket, backoff: { initialMs: 100, maxMs: 400 } });
}

describe('token handling', () => {
  it('takes the token from the URL, keeps it in sessionStorage and removes it from the address bar', () => {
    const { connection } = connect();
    expect(last().url).toBe(`ws://${location.host}/api?token=s3cret%2Bx`);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('s3cret+x');
    // Other query parameters and the page hash survive; only the token goes.
    expect(location.search).toBe('?theme=dark');
    expect(location.hash).toBe('#/data');
    expect(connection.state).toBe('connecting');
  });

  it('finds the token again after a reload, when the URL no longer has it', () => {
    sessionStorage.setItem(TOKEN_KEY, 'kept');
    connect('/#/project');
    expect(last().url).toBe(`ws://${location.host}/api?token=kept`);
  });

  it('uses wss on an https page', () => {
    connectBridge({
      WebSocket: FakeSocket,
      location: { href: 'https://box.example:8443/?token=t', host: 'box.example:8443', protocol: 'https:' },
    });
    expect(last().url).toBe('wss://box.example:8443/api?token=t');
  });

  it('without a token opens no socket and every call fails with a message that says what to open', async () => {
    const { engine, connection } = connect('/');
    expect(FakeSocket.all).toHaveLength(0);
    expect(connection.state).toBe('no-token');
    const err = await engine.getEngineInfo().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('BAD_INPUT');
    expect((err as EngineError).message).toMatch(/embedsmith serve.*\?token=/);
  });

  it('a refused token (close 4401) fails pending and later calls, forgets the token and does not retry', async () => {
    vi.useFakeTimers();
    const { engine, connection } = connect();
    const pending = engine.currentProject().catch((e: unknown) => e);
    last().serverClose(4401, 'bad token');
    const err = (await pending) as EngineError;
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toMatch(/refused this page’s access token/);
    expect(connection.state).toBe('refused');
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    await expect(engine.listRecentProjects()).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('calls and events', () => {
  it('queues calls until the socket opens, then sends WireRequests with distinct ids', async () => {
    const { engine } = connect();
    const a = engine.openProject('/p/a');
    const b = engine.renameProject('New name');
    expect(last().sent).toEqual([]);
    last().open();
    expect(last().sent).toEqual([
      { type: 'call', id: 1, method: 'openProject', args: ['/p/a'] },
      { type: 'call', id: 2, method: 'renameProject', args: ['New name'] },
    ]);
    // Results come back out of order and are matched by id.
    last().reply({ type: 'result', id: 2, ok: true, value: { name: 'New name' } });
    last().reply({ type: 'result', id: 1, ok: true, value: { name: 'A' } });
    await expect(a).resolves.toEqual({ name: 'A' });
    await expect(b).resolves.toEqual({ name: 'New name' });
  });

  it('sends at once when already open, and turns an error result into an EngineError with its code', async () => {
    const { engine } = connect();
    last().open();
    const p = engine.openProject('/nope');
    expect(last().sent).toHaveLength(1);
    last().reply({ type: 'result', id: 1, ok: false, error: { code: 'NOT_FOUND', message: 'no project in /nope' } });
    await expect(p).rejects.toMatchObject({ name: 'EngineError', code: 'NOT_FOUND', message: 'no project in /nope' });
  });

  it('a malformed error result becomes INTERNAL rather than a crash or a silent success', async () => {
    const { engine } = connect();
    last().open();
    const p = engine.closeProject();
    last().reply({ type: 'result', id: 1, ok: false, error: 'boom' });
    await expect(p).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('delivers events to their listeners until unsubscribed, and ignores garbage', () => {
    const { engine } = connect();
    last().open();
    const seen: JobProgress[] = [];
    const off = engine.onJobProgress((p) => seen.push(p));
    const progress = { jobId: 'j1', kind: 'train', state: 'running', fraction: 0.5, message: 'step 5/10' };
    last().reply({ type: 'event', event: 'onJobProgress', payload: progress });
    last().reply({ type: 'event', event: 'onNoSuchEvent', payload: 1 });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    last().onmessage?.({ data: 'not json' });
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
    off();
    last().reply({ type: 'event', event: 'onJobProgress', payload: { ...progress, fraction: 1 } });
    expect(seen).toEqual([progress]);
  });
});

describe('losing the connection', () => {
  it('rejects calls in flight with HOST_CRASHED, reconnects with growing delays, and works again', async () => {
    vi.useFakeTimers();
    const states: string[] = [];
    const { engine, connection } = connect();
    connection.onState((s) => states.push(s));
    last().open();
    const inFlight = engine.currentProject().catch((e: unknown) => e);
    last().serverClose(1006);
    const err = (await inFlight) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('HOST_CRASHED');
    expect(err.message).toMatch(/reconnects by itself/);

    // First retry after 100 ms; it fails too, so the next waits 200 ms.
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(2);
    const queued = engine.getEngineInfo().catch((e: unknown) => e);
    last().serverClose(1006);
    expect(((await queued) as EngineError).code).toBe('HOST_CRASHED');
    await vi.advanceTimersByTimeAsync(199);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(3);

    const later = engine.currentProject();
    last().open();
    expect(last().sent).toEqual([{ type: 'call', id: 3, method: 'currentProject', args: [] }]);
    last().reply({ type: 'result', id: 3, ok: true, value: null });
    await expect(later).resolves.toBeNull();
    expect(states).toEqual(['open', 'reconnecting', 'open']);
  });

  it('close() by the page fails pending calls and stops reconnecting', async () => {
    vi.useFakeTimers();
    const { engine, connection } = connect();
    last().open();
    const p = engine.currentProject().catch((e: unknown) => e);
    connection.close();
    expect(((await p) as EngineError).code).toBe('HOST_CRASHED');
    expect(connection.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
