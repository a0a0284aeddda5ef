// The web bridge: serves the built renderer and carries the same EngineApi over a WebSocket,
// so a browser (end-to-end tests, or a user driving a remote GPU box through an SSH tunnel)
// gets what the desktop app gets. Bound to loopback; every socket must present the random
// token printed at start, and browsers must come from the bridge's own origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ENGINE_EVENTS, isEngineMethod, type EngineTransport, type WireMessage } from '../../../shared/api.js';

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

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Close code sent when a socket's token is missing or wrong; the renderer tells the user. */
export const BAD_TOKEN_CLOSE = 4401;

export async function startWebBridge(options: WebBridgeOptions): Promise<WebBridge> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  const rendererDir = resolve(options.rendererDir);
  const index = join(rendererDir, 'index.html');
  if (!(await stat(index).catch(() => null))) {
    throw new Error(`the renderer is not built: ${index} is missing; run \`npm run build\` first`);
  }

  const server: Server = createServer((req, res) => void serveStatic(rendererDir, req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (url.pathname !== '/api') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!tokenMatches(url.searchParams.get('token'), token) || !originAllowed(req)) {
        ws.close(BAD_TOKEN_CLOSE, 'missing or wrong access token: open the URL printed by `embedsmith serve`');
        return;
      }
      attach(ws);
    });
  });

  function attach(ws: WebSocket): void {
    sockets.add(ws);
    const send = (m: WireMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
    const unsubscribe = ENGINE_EVENTS.map((event) =>
      options.engine.subscribe(event, (payload) => send({ type: 'event', event, payload })),
    );
    ws.on('message', async (data) => {
      let req: { type?: unknown; id?: unknown; method?: unknown; args?: unknown };
      try {
        req = JSON.parse(String(data));
      } catch {
        return ws.close(1003, 'messages must be JSON');
      }
      if (req.type !== 'call' || typeof req.id !== 'number') return;
      if (!isEngineMethod(req.method) || !Array.isArray(req.args)) {
        send({ type: 'result', id: req.id, ok: false, error: { code: 'BAD_INPUT', message: `unknown engine method ${JSON.stringify(req.method)}` } });
        return;
      }
      const r = await options.engine.call(req.method, req.args);
      send({ type: 'result', id: req.id, ...r });
    });
    ws.on('close', () => {
      sockets.delete(ws);
      for (const u of unsubscribe) u();
    });
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/?token=${token}`,
    token,
    port,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
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

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://bridge').pathname);
  let file = normalize(join(root, pathname === '/' ? 'index.html' : pathname));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let st = await stat(file).catch(() => null);
  if (!st || st.isDirectory()) {
    // Unknown paths get the app shell (client-side navigation), missing assets a 404.
    if (extname(pathname)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
      return;
    }
    file = join(root, 'index.html');
    st = await stat(file);
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
