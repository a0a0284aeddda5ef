// The web bridge's plain-HTTP side: the built renderer's files, and the parsing of request
// targets that both it and the WebSocket upgrade use. Anyone who can reach the port can send
// anything here (a page on another origin can make a browser do so), so every request ends in
// an answer — 400 for a target that is not a path, 500 for a failed read — never in a throw.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';

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

/**
 * The path and query of a request target, or null when it is not one this server answers:
 * origin-form ('/path?query') or absolute-form ('http://host/path', as proxies send), read
 * as a browser would read it against this server (so '//[' is as invalid as 'http://[').
 */
export function parseTarget(raw: string | undefined): URL | null {
  if (!raw || !(raw.startsWith('/') || /^https?:\/\//i.test(raw))) return null;
  try {
    return new URL(raw, 'http://bridge');
  } catch {
    return null; // "Invalid URL": the caller answers 400
  }
}

/** The percent-decoded path, or null when its escapes are not UTF-8 ('/%zz', '/%E0%A4%A') or it holds a NUL. */
export function decodePath(pathname: string): string | null {
  try {
    const p = decodeURIComponent(pathname);
    return p.includes('\0') ? null : p;
  } catch {
    return null;
  }
}

export function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(text);
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const target = parseTarget(req.url);
  const pathname = target && decodePath(target.pathname);
  if (pathname === null) {
    answer(res, 400, 'bad request: the path is not a valid percent-encoded URL path');
    return;
  }
  let file = normalize(join(root, pathname === '/' ? 'index.html' : pathname));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let st = await stat(file).catch(() => null);
  if (!st || st.isDirectory()) {
    // Unknown paths get the app shell (client-side navigation), missing assets a 404.
    if (extname(pathname)) {
      answer(res, 404, `not found: ${pathname}`);
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
  // pipeline, not pipe: a read error (the file removed since stat) destroys the response
  // instead of surfacing as an unhandled 'error' event.
  else pipeline(createReadStream(file), res, () => {});
}
