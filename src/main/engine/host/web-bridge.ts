// The web bridge: serves the built renderer and carries the same EngineApi over a WebSocket,
// so a browser (end-to-end tests, or a user driving a remote GPU box through an SSH tunnel)
// gets what the desktop app gets. Bound to loopback; every socket must present the random
// token printed at start, and browsers must come from the bridge's own origin.
//
// Whatever arrives — a malformed request line, a bad upgrade, a protocol error or an oversize
// message on a socket — ends that request or that socket only: the server and every job it
// runs live on. Every stream here has an 'error' listener for that reason (an 'error' event
// without one ends the process).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join, resolve } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { checkCallArgs } from '../../../shared/api-args.js';
import { ENGINE_EVENTS, ENGINE_METHODS, EngineError, isEngineMethod, type CallResult, type EngineTransport, type WireMessage } from '../../../shared/api.js';
import { answer, parseTarget, serveStatic } from './web-static.js';

export interface WebBridgeOptions {
  engine: EngineTransport;
  /** Folder of the built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  port?: number;
  host?: string;
  /** Fixed token for tests; random 32 bytes otherwise. */
  token?: string;
}

export interface WebBridge {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** Close code sent when a socket's token is missing or wrong; the renderer tells the user. */
export const BAD_TOKEN_CLOSE = 4401;
/**
 * Largest message an authenticated socket may send. The biggest real calls (a page of template
 * previews, an edited row) are kilobytes; 16 MiB leaves room without letting one message cost
 * the server gigabytes. A bigger one closes that socket with 1009 (RFC 6455 "message too big").
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** How long a refused socket may take to acknowledge its close before it is cut. */
const REFUSED_GRACE_MS = 2000;

export async function startWebBridge(options: WebBridgeOptions): Promise<WebBridge> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  const rendererDir = resolve(options.rendererDir);
  const index = join(rendererDir, 'index.html');
  if (!(await stat(index).catch(() => null))) {
    throw new Error(`the renderer is not built: ${index} is missing; run \`npm run build\` first`);
  }

  const server: Server = createServer((req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => res.destroy());
    serveStatic(rendererDir, req, res).catch((err: unknown) => answer(res, 500, `could not serve ${req.url}: ${(err as Error).message}`));
  });
  // Requests Node's parser rejects (bad request line, oversize headers, a reset mid-request).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  // Listening servers rarely fail; when one does, the jobs inside must not go with it.
  server.on('error', (err) => console.error(`embedsmith serve: ${err.message}`));

  // Authenticated sockets, with the message limit; refused ones (wrong or missing token) get a
  // server of their own whose limit is one byte, so they cannot make the bridge buffer anything
  // in the moment before their close.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const refusing = new WebSocketServer({ noServer: true, maxPayload: 1 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = parseTarget(req.url);
    if (!target) return refuseUpgrade(socket, '400 Bad Request');
    if (target.pathname !== '/api') return refuseUpgrade(socket, '404 Not Found');
    // A page on another site gets no WebSocket at all: refused before the handshake.
    if (!originAllowed(req)) return refuseUpgrade(socket, '403 Forbidden');
    const authed = tokenMatches(target.searchParams.get('token'), token);
    (authed ? wss : refusing).handleUpgrade(req, socket, head, (ws) => (authed ? attach(ws) : refuse(ws)));
  });

  function refuse(ws: WebSocket): void {
    ws.on('error', () => ws.terminate());
    ws.close(BAD_TOKEN_CLOSE, 'missing or wrong access token: open the URL printed by `embedsmith serve`');
    const cut = setTimeout(() => ws.terminate(), REFUSED_GRACE_MS).unref();
    ws.on('close', () => clearTimeout(cut));
  }

  function attach(ws: WebSocket): void {
    sockets.add(ws);
    // ws has already failed the connection with the right close code (1002 protocol error,
    // 1007 bad UTF-8, 1009 message too big); only this socket ends.
    ws.on('error', () => undefined);
    const send = (m: WireMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      let text: string;
      try {
        text = JSON.stringify(m);
      } catch (err) {
        if (m.type !== 'result') return;
        text = JSON.stringify({ type: 'result', id: m.id, ok: false, error: { code: 'INTERNAL', message: `the result could not be sent: ${(err as Error).message}` } });
      }
      ws.send(text, () => undefined);
    };
    const unsubscribe = ENGINE_EVENTS.map((event) => options.engine.subscribe(event, (payload) => send({ type: 'event', event, payload })));
    ws.on('message', (data) => {
      handle(data).then(
        (reply) => reply && send(reply),
        () => ws.close(1011, 'internal error in the web bridge'),
      );
    });
    ws.on('close', () => {
      sockets.delete(ws);
      for (const u of unsubscribe) u();
    });

    async function handle(data: RawData): Promise<WireMessage | null> {
      let req: unknown;
      try {
        req = JSON.parse(rawText(data));
      } catch {
        ws.close(1003, 'messages must be JSON');
        return null;
      }
      const call = req as { type?: unknown; id?: unknown; method?: unknown; args?: unknown };
      if (typeof req !== 'object' || req === null || call.type !== 'call' || !Number.isSafeInteger(call.id)) {
        ws.close(1008, 'a message must be {"type":"call","id":<integer>,"method":<name>,"args":[...]}');
        return null;
      }
      const id = call.id as number;
      const fail = (message: string, details?: Record<string, unknown>): WireMessage => ({ type: 'result', id, ok: false, error: { code: 'BAD_INPUT', message, details } });
      if (!isEngineMethod(call.method)) {
        return fail(`unknown engine method ${JSON.stringify(call.method)}; the methods are ${ENGINE_METHODS.join(', ')}`, { method: call.method });
      }
      const bad = checkCallArgs(call.method, call.args);
      if (bad) return { type: 'result', id, ok: false, error: bad };
      let r: CallResult;
      try {
        r = await options.engine.call(call.method, call.args as unknown[]);
      } catch (err) {
        r = { ok: false, error: EngineError.toData(err) };
      }
      return { type: 'result', id, ...r };
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/?token=${token}`,
    token,
    port,
    async close() {
      for (const ws of sockets) ws.terminate();
      for (const ws of refusing.clients) ws.terminate();
      wss.close();
      refusing.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };

  function originAllowed(req: IncomingMessage): boolean {
    // Non-browser clients send no Origin; a browser page must be our own (no cross-site use).
    const origin = req.headers.origin;
    if (!origin) return true;
    try {
      const o = new URL(origin);
      return o.port === String(port) && (o.hostname === '127.0.0.1' || o.hostname === 'localhost' || o.hostname === host);
    } catch {
      return false;
    }
  }
}

/** Answers an upgrade request that will not become a WebSocket, then lets the socket go. */
function refuseUpgrade(socket: Duplex, status: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A peer that keeps the connection open after the answer is cut, not waited for.
  setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
