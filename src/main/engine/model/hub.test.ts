import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pullCommand } from '../cli/commands/pull.js';
import { pullModel, type PullProgress } from './hub.js';

// A local server answering like the hub for the routes used: model info, tree listing and
// resolve (with a redirect to a CDN-like path for LFS files, Range support, ETag headers).
const COMMIT = 'a'.repeat(40);
const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
const FILES: Record<string, { body: Buffer; lfs: boolean }> = {
  'config.json': { body: Buffer.from('{"model_type":"bert"}\n'), lfs: false },
  'model.safetensors': { body: big, lfs: true },
  '1_Pooling/config.json': { body: Buffer.from('{"pooling_mode_mean_tokens":true}'), lfs: false },
  'onnx/model.onnx': { body: Buffer.from('onnx bytes'), lfs: true },
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const etagOf = (f: { body: Buffer; lfs: boolean }) => (f.lfs ? sha256(f.body) : gitOid(f.body));

let server: Server;
let base: string;
let tmp: string;
let mode: { auth?: boolean; dropOnce?: Set<string>; corrupt?: string } = {};
const requests: string[] = [];

function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url!, base);
  requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
  if (mode.auth && req.headers.authorization !== 'Bearer hf_good') {
    res.writeHead(401, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo' }).end('{"error":"Access to model org/model is restricted."}');
    return;
  }
  let m = url.pathname.match(/^\/api\/models\/(org\/model)\/revision\/([^/]+)$/);
  if (m) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ _id: '1', id: m[1], sha: COMMIT, lastModified: '2026-01-01' }));
  if (url.pathname.startsWith('/api/models/')) {
    if (url.pathname.startsWith('/api/models/org/model/tree/')) {
      const tree = Object.entries(FILES).map(([path, f]) => ({ type: 'file', path, size: f.lfs ? 134 : f.body.length, oid: gitOid(Buffer.from('pointer')), ...(f.lfs ? { lfs: { oid: sha256(f.body), size: f.body.length, pointerSize: 134 } } : { oid: gitOid(f.body) }) }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tree));
    }
    return void res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': 'RepoNotFound' }).end('{"error":"Repository not found"}');
  }
  m = url.pathname.match(/^\/org\/model\/resolve\/([^/]+)\/(.+)$/);
  if (m) {
    const path = decodeURIComponent(m[2]);
    const f = FILES[path];
    if (!f) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
    const headers = { etag: `"${etagOf(f)}"`, 'x-repo-commit': COMMIT, ...(f.lfs ? { 'x-linked-etag': `"${sha256(f.body)}"`, 'x-linked-size': String(f.body.length) } : {}) };
    if (f.lfs) return void res.writeHead(302, { ...headers, location: `/cdn/${sha256(f.body)}?file=${encodeURIComponent(path)}` }).end();
    return serve(req, res, f.body, path, headers);
  }
  m = url.pathname.match(/^\/cdn\/([0-9a-f]{64})$/);
  if (m) {
    const path = url.searchParams.get('file')!;
    return serve(req, res, FILES[path].body, path, {});
  }
  res.writeHead(404).end();
}

function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string, headers: Record<string, string>) {
  const range = req.headers.range?.match(/^bytes=(\d+)-$/);
  const start = range ? Number(range[1]) : 0;
  let payload = body.subarray(start);
  if (mode.corrupt === path) payload = Buffer.from(payload).fill(0, 10, 20);
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(payload.length), ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
  if (mode.dropOnce?.has(path)) {
    mode.dropOnce.delete(path);
    // Send part of the file, then cut the connection mid-body.
    res.write(payload.subarray(0, 50_000), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(payload);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-hub-'));
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});
let cacheDir: string;
let n = 0;
beforeEach(() => {
  mode = {};
  requests.length = 0;
  cacheDir = join(tmp, `cache${n++}`);
});

const pull = (extra: Partial<Parameters<typeof pullModel>[0]> = {}) => pullModel({ repo: 'org/model', cacheDir, endpoint: base, token: '', offline: false, ...extra });

describe('pullModel against a local hub', () => {
  it('downloads into the HF cache layout, follows the CDN redirect, skips ONNX, reports progress', async () => {
    const seen: PullProgress[] = [];
    const r = await pull({ onProgress: (p) => seen.push(p) });
    const folder = join(cacheDir, 'models--org--model');
    expect(r.dir).toBe(join(folder, 'snapshots', COMMIT));
    expect(r.files.sort()).toEqual(['1_Pooling/config.json', 'config.json', 'model.safetensors']);
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
    expect(await readlink(join(r.dir, 'model.safetensors'))).toBe(join('..', '..', 'blobs', sha256(big)));
    expect(await readlink(join(r.dir, '1_Pooling', 'config.json'))).toBe(join('..', '..', '..', 'blobs', gitOid(FILES['1_Pooling/config.json'].body)));
    expect((await readFile(join(folder, 'refs', 'main'), 'utf8'))).toBe(COMMIT);
    expect(requests.some((q) => q.startsWith('GET /cdn/'))).toBe(true);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ filesDone: 3, filesTotal: 3, doneBytes: last.totalBytes });
    expect(last.totalBytes).toBe(big.length + FILES['config.json'].body.length + FILES['1_Pooling/config.json'].body.length);
    expect(r.downloadedBytes).toBe(last.totalBytes);
    // A second pull finds every blob and downloads nothing.
    requests.length = 0;
    const again = await pull();
    expect(again.downloadedBytes).toBe(0);
    expect(requests.filter((q) => q.includes('/resolve/') || q.includes('/cdn/'))).toEqual([]);
  });

  it('a dropped connection mid-file resumes with a Range request and ends with a verified file', async () => {
    mode.dropOnce = new Set(['model.safetensors']);
    const r = await pull();
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
    expect(requests.some((q) => /GET \/cdn\/.* bytes=\d+-/.test(q))).toBe(true);
    expect((await readdir(join(cacheDir, 'models--org--model', 'blobs'))).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  });

  it('out of retries: the error says so and the partial stays as .incomplete, never as a blob; the next pull resumes it', async () => {
    mode.dropOnce = new Set(['model.safetensors']);
    await expect(pull({ retries: 0 })).rejects.toThrow(/broke off .* next pull resumes it/);
    const blobs = await readdir(join(cacheDir, 'models--org--model', 'blobs'));
    expect(blobs).toContain(`${sha256(big)}.incomplete`);
    expect(blobs).not.toContain(sha256(big));
    const r = await pull();
    expect(requests.some((q) => / bytes=50000-/.test(q))).toBe(true);
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
  });

  it('a corrupted transfer fails the sha256 check and leaves nothing behind', async () => {
    mode.corrupt = 'model.safetensors';
    await expect(pull()).rejects.toThrow(/content hash [0-9a-f]{64} does not match the hub's [0-9a-f]{64}/);
    const blobs = await readdir(join(cacheDir, 'models--org--model', 'blobs'));
    expect(blobs.filter((b) => b.startsWith(sha256(big)))).toEqual([]);
  });

  it('404: model not found, check the name', async () => {
    await expect(pullModel({ repo: 'org/missing', cacheDir, endpoint: base, offline: false })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/model not found: org\/missing@main .*check the name/) });
  });

  it('401: says to set HF_TOKEN; with the token it works', async () => {
    mode.auth = true;
    await expect(pull()).rejects.toThrow(/requires authentication .*Set HF_TOKEN/);
    await expect(pull({ token: 'hf_bad' })).rejects.toThrow(/refused access .* token in HF_TOKEN/);
    await expect(pull({ token: 'not-a-token' })).rejects.toThrow(/does not look like a Hugging Face access token/);
    vi.stubEnv('HF_TOKEN', 'hf_good');
    vi.stubEnv('HF_ENDPOINT', base);
    try {
      const r = await pullModel({ repo: 'org/model', cacheDir, offline: false });
      expect((await readFile(join(r.dir, 'config.json'), 'utf8'))).toContain('bert');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('bad model ids are bad usage', async () => {
    await expect(pull({ repo: 'not a repo' })).rejects.toThrow(/not a model id; write ORG\/NAME/);
  });
});

describe('offline: a cache written by Python tools', () => {
  async function pythonCache(dir: string) {
    const folder = join(dir, 'models--org--model');
    const body = Buffer.from('{"model_type":"bert"}');
    await mkdir(join(folder, 'blobs'), { recursive: true });
    await mkdir(join(folder, 'snapshots', COMMIT), { recursive: true });
    await mkdir(join(folder, 'refs'), { recursive: true });
    await writeFile(join(folder, 'blobs', gitOid(body)), body);
    await symlink(join('..', '..', 'blobs', gitOid(body)), join(folder, 'snapshots', COMMIT, 'config.json'));
    await writeFile(join(folder, 'refs', 'main'), COMMIT);
  }

  it('is found without any server (HF_HUB_OFFLINE, HF_HUB_CACHE), and when the hub is unreachable', async () => {
    await pythonCache(cacheDir);
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    vi.stubEnv('HF_HUB_CACHE', cacheDir);
    try {
      const r = await pullModel({ repo: 'org/model' });
      expect(r).toMatchObject({ fromCache: true, commit: COMMIT });
      expect(await readFile(join(r.dir, 'config.json'), 'utf8')).toContain('bert');
      await expect(pullModel({ repo: 'org/other' })).rejects.toThrow(/not in the Hugging Face cache .* offline mode/);
    } finally {
      vi.unstubAllEnvs();
    }
    // Online, but nothing listens on the endpoint: the cached copy is used.
    const r = await pullModel({ repo: 'org/model', cacheDir, endpoint: 'http://127.0.0.1:9', offline: false });
    expect(r.fromCache).toBe(true);
    await expect(pullModel({ repo: 'org/other', cacheDir, endpoint: 'http://127.0.0.1:9', offline: false })).rejects.toThrow(/could not reach http:\/\/127.0.0.1:9/);
  });
});

describe('embedsmith pull', () => {
  it('pulls, copies plain files to --out, and maps errors to exit codes', async () => {
    const logs: string[] = [];
    const errs: string[] = [];
    const out = { log: (s: string) => logs.push(s), error: (s: string) => errs.push(s) };
    vi.stubEnv('HF_ENDPOINT', base);
    vi.stubEnv('HF_HUB_CACHE', cacheDir);
    vi.stubEnv('HF_HUB_OFFLINE', '');
    try {
      const dest = join(tmp, 'pulled');
      expect(await pullCommand(['org/model', '--out', dest], out)).toBe(0);
      expect((await lstat(join(dest, 'model.safetensors'))).isSymbolicLink()).toBe(false);
      expect(logs.at(-1)).toContain(dest);
      expect(errs.some((e) => e.startsWith('100%'))).toBe(true);
      expect(await pullCommand(['org/missing'], out)).toBe(2);
      expect(errs.at(-1)).toMatch(/model not found/);
      expect(await pullCommand([], out)).toBe(2);
      expect(await pullCommand(['org/model', '--bogus'], out)).toBe(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
