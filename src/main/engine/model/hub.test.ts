import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pullCommand } from '../cli/commands/pull.js';
import { pullModel, type PullProgress } from './hub.js';
import { gitOid, HUB_BIG as big, HUB_COMMIT as COMMIT, HUB_FILES as FILES, sha256, startFakeHub, type FakeHub } from '../../../../test/support/fake-hub.js';

// The local stand-in for the hub (test/support/fake-hub.ts): model info, tree, resolve with a CDN
// redirect for LFS files, Range requests, and the failure modes set through `hub.mode`.
let hub: FakeHub;
let base: string;
let tmp: string;
let requests: string[];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-hub-'));
  hub = await startFakeHub();
  base = hub.base;
  requests = hub.requests;
});
afterAll(async () => {
  await hub.close();
  await rm(tmp, { recursive: true, force: true });
});
let cacheDir: string;
let n = 0;
beforeEach(() => {
  hub.mode = {};
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
    hub.mode.dropOnce = new Set(['model.safetensors']);
    const r = await pull();
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
    expect(requests.some((q) => /GET \/cdn\/.* bytes=\d+-/.test(q))).toBe(true);
    expect((await readdir(join(cacheDir, 'models--org--model', 'blobs'))).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  });

  it('out of retries: the error says so and the partial stays as .incomplete, never as a blob; the next pull resumes it', async () => {
    hub.mode.dropOnce = new Set(['model.safetensors']);
    await expect(pull({ retries: 0 })).rejects.toThrow(/broke off .* next pull resumes it/);
    const blobs = await readdir(join(cacheDir, 'models--org--model', 'blobs'));
    expect(blobs).toContain(`${sha256(big)}.incomplete`);
    expect(blobs).not.toContain(sha256(big));
    const r = await pull();
    expect(requests.some((q) => / bytes=50000-/.test(q))).toBe(true);
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
  });

  it('a corrupted transfer fails the sha256 check and leaves nothing behind', async () => {
    hub.mode.corrupt = 'model.safetensors';
    await expect(pull()).rejects.toThrow(/content hash [0-9a-f]{64} does not match the hub's [0-9a-f]{64}/);
    const blobs = await readdir(join(cacheDir, 'models--org--model', 'blobs'));
    expect(blobs.filter((b) => b.startsWith(sha256(big)))).toEqual([]);
  });

  it('an abort mid-file ends CANCELLED, keeps only the .incomplete prefix, and the next pull resumes it', async () => {
    hub.mode.stall = { path: 'model.safetensors', bytes: 60_000 };
    const controller = new AbortController();
    const pulling = pull({ signal: controller.signal });
    await hub.stalled();
    // Abort once the sent bytes are on disk, so there is a partial file to keep.
    const incomplete = join(cacheDir, 'models--org--model', 'blobs', `${sha256(big)}.incomplete`);
    await expect.poll(async () => (await stat(incomplete).catch(() => undefined))?.size ?? 0).toBe(60_000);
    controller.abort();
    await expect(pulling).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/cancelled; .* next pull resumes it/) });
    const blobs = await readdir(join(cacheDir, 'models--org--model', 'blobs'));
    expect(blobs).toContain(`${sha256(big)}.incomplete`);
    expect(blobs).not.toContain(sha256(big));
    const partial = await readFile(incomplete);
    expect(partial.equals(big.subarray(0, partial.length))).toBe(true);
    hub.mode = {};
    const r = await pull();
    expect(requests.some((q) => new RegExp(` bytes=${partial.length}-`).test(q))).toBe(true);
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(big)).toBe(true);
    // Aborted before it starts: no request at all.
    requests.length = 0;
    await expect(pull({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(requests).toEqual([]);
  });

  it('404: model not found, check the name', async () => {
    await expect(pullModel({ repo: 'org/missing', cacheDir, endpoint: base, offline: false })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/model not found: org\/missing@main .*check the name/) });
  });

  it('401: says to set HF_TOKEN; with the token it works', async () => {
    hub.mode.auth = true;
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
