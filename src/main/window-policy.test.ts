import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, isTrustedRendererUrl, rendererEntry, WEB_PREFERENCES } from './window-policy.js';

describe('window policy', () => {
  it('isolates and sandboxes the renderer', () => {
    expect(WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it('allows no eval, no remote scripts, no plugins in the CSP', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/object-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:/);
  });

  it('the renderer page declares the same script policy', () => {
    const html = readFileSync('src/renderer/index.html', 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
    expect(meta, 'index.html needs a CSP meta tag').not.toBeNull();
    expect(meta![1]).toMatch(/script-src 'self'(;|$)/);
    expect(meta![1]).not.toMatch(/unsafe-eval/);
  });

  const loc = { rendererHtml: '/opt/app/out/renderer/index.html' };
  it('trusts only our own page', () => {
    const own = pathToFileURL(loc.rendererHtml).href;
    expect(rendererEntry(loc)).toBe(own);
    expect(isTrustedRendererUrl(own, loc)).toBe(true);
    expect(isTrustedRendererUrl(`${own}#/training`, loc)).toBe(true);
    expect(isTrustedRendererUrl('file:///etc/passwd', loc)).toBe(false);
    expect(isTrustedRendererUrl('https://example.com/', loc)).toBe(false);
    expect(isTrustedRendererUrl('not a url', loc)).toBe(false);
  });

  it('trusts the dev server origin only when one is configured', () => {
    const dev = { ...loc, devServer: 'http://localhost:5173' };
    expect(isTrustedRendererUrl('http://localhost:5173/index.html', dev)).toBe(true);
    expect(isTrustedRendererUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isTrustedRendererUrl('http://localhost:5173/', loc)).toBe(false);
  });
});
