// The window's security settings in one place, free of `electron` imports so a unit test
// can check them (STYLE §3).
import { pathToFileURL } from 'node:url';

export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;

/** Also in src/renderer/index.html as a meta tag; the header covers the dev server too. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Svelte sets inline style attributes (transitions, style: directives).
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface RendererLocation {
  rendererHtml: string;
  devServer?: string;
}

export function rendererEntry(loc: RendererLocation): string {
  return loc.devServer ?? pathToFileURL(loc.rendererHtml).href;
}

/** True only for our own page (any hash/query), never for other files or sites. */
export function isTrustedRendererUrl(url: string, loc: RendererLocation): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (loc.devServer) {
    const dev = new URL(loc.devServer);
    if (u.origin === dev.origin) return true;
  }
  const own = new URL(pathToFileURL(loc.rendererHtml).href);
  return u.protocol === 'file:' && u.pathname === own.pathname;
}
