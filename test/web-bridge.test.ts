// The web bridge in front of a real engine host: static files, the token, the origin check,
// calls and events over the WebSocket.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../src/shared/api.js';
import { EngineHost } from '../src/main/engine/host/engine-host.js';
import { BAD_TOKEN_CLOSE, startWebBridge, type WebBridge } from '../src/main/engine/host/web-bridge.js';

let tmp: string;
let host: EngineHost;
let bridge: WebBridge;
const base = () => `http://127.0.0.1:${bridge.port}`;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-bridge-'));
  const renderer = join(tmp, 'renderer');
  await mkdir(join(renderer, 'assets'), { recursive: true });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Embedsmith</title>');
  await writeFile(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(tmp, 'secret.txt'), 'not for you');
  host = new EngineHost({ stateDir: join(tmp, 'state'), host: 'web-bridge' }, (o) => new Worker(new URL('../dist/main/engine/host/host-worker.js', import.meta.url), o));
  bridge = await startWebBridge({ engine: host, rendererDir: renderer });
});
afterAll(async () => {
  await bridge?.close();
  await host?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

function connect(token: string | null, origin?: string): WebSocket {
  const q = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  return new WebSocket(`ws://127.0.0.1:${bridge.port}/api${q}`, origin ? { origin } : {});
}
const closeCode = (ws: WebSocket) => new Promise<number>((r) => ws.on('close', (code) => r(code)));
const opened = (ws: WebSocket) => new Promise<void>((ok, fail) => (ws.on('open', () => ok()), ws.on('error', fail)));

describe('web bridge', () => {
  it('listens on loopback with a long random token in its URL', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{40,}$/);
  });

  it('serves the renderer, its assets and the shell for app routes', async () => {
    const index = await fetch(`${base()}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await (await fetch(`${base()}/assets/app.js`)).text()).toBe('console.log(1)');
    expect(await (await fetch(`${base()}/training`)).text()).toContain('<title>Embedsmith');
    expect((await fetch(`${base()}/assets/missing.js`)).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    const r = await fetch(`${base()}/..%2Fsecret.txt`);
    expect(r.status).toBe(403);
    expect(await r.text()).not.toContain('not for you');
  });

  it('closes sockets without the token or with a wrong one, and refuses another origin before the handshake', async () => {
    expect(await closeCode(connect(null))).toBe(BAD_TOKEN_CLOSE);
    expect(await closeCode(connect('x'.repeat(bridge.token.length)))).toBe(BAD_TOKEN_CLOSE);
    const foreign = connect(bridge.token, 'http://evil.example');
    foreign.on('error', () => undefined);
    expect(await new Promise((r) => foreign.on('unexpected-response', (_req, res) => r(res.statusCode)))).toBe(403);
  });

  it('carries calls and their errors, and pushes events to the socket', async () => {
    const ws = connect(bridge.token, `http://127.0.0.1:${bridge.port}`);
    await opened(ws);
    const inbox: WireMessage[] = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (d) => {
      inbox.push(JSON.parse(String(d)));
      waiters.splice(0).forEach((w) => w());
    });
    const waitFor = async (pred: (m: WireMessage) => boolean) => {
      for (;;) {
        const m = inbox.find(pred);
        if (m) return m;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'createProject', args: [join(tmp, 'proj'), 'Bridged'] }));
    const r1 = await waitFor((m) => m.type === 'result' && m.id === 1);
    expect(r1).toMatchObject({ ok: true, value: { name: 'Bridged' } });
    const ev = await waitFor((m) => m.type === 'event');
    expect(ev).toMatchObject({ event: 'onProjectChanged', payload: { name: 'Bridged' } });

    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'createProject', args: [join(tmp, 'proj'), 'Again'] }));
    expect(await waitFor((m) => m.type === 'result' && m.id === 2)).toMatchObject({ ok: false, error: { code: 'ALREADY_EXISTS' } });

    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'dispose', args: [] }));
    expect(await waitFor((m) => m.type === 'result' && m.id === 3)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    ws.close();
  });
});
