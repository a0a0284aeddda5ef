// Test helper (hub.test.ts, the engine service's pull tests): a local HTTP server answering
// like the Hugging Face hub for the routes a pull uses — model info, the recursive tree
// listing, resolve (LFS files redirect to a CDN-like path), Range requests, ETag headers — and
// the failures it must survive: 401, 404, a dropped connection, a corrupted body, a stall.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const HUB_COMMIT = 'a'.repeat(40);
/** The one LFS weight file: big enough to arrive in several chunks. */
export const HUB_BIG = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
export const HUB_FILES: Record<string, { body: Buffer; lfs: boolean }> = {
  'config.json': { body: Buffer.from('{"model_type":"bert"}\n'), lfs: false },
  'model.safetensors': { body: HUB_BIG, lfs: true },
  '1_Pooling/config.json': { body: Buffer.from('{"pooling_mode_mean_tokens":true}'), lfs: false },
  'onnx/model.onnx': { body: Buffer.from('onnx bytes'), lfs: true },
};
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const etagOf = (f: { body: Buffer; lfs: boolean }) => (f.lfs ? sha256(f.body) : gitOid(f.body));

export interface FakeHubMode {
  /** Answer 401 unless `Authorization: Bearer hf_good`. */
  auth?: boolean;
  /** Files whose next transfer breaks off after 50,000 bytes. */
  dropOnce?: Set<string>;
  /** A file whose bytes 10..20 arrive zeroed. */
  corrupt?: string;
  /** A file whose transfers send this many bytes and then hang until the client gives up. */
  stall?: { path: string; bytes: number };
}

export interface FakeHub {
  /** http://127.0.0.1:PORT, the HF_ENDPOINT to use. */
  base: string;
  /** Change between tests; read on every request. */
  mode: FakeHubMode;
  /** `GET /path[ bytes=N-]` for every request, in order. */
  requests: string[];
  /** Resolves once a stalled transfer has sent its bytes (cancel tests wait for it). */
  stalled(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeHub(): Promise<FakeHub> {
  const requests: string[] = [];
  let onStall: (() => void) | null = null;
  let stallSeen = false;
  const hub: FakeHub = {
    base: '',
    mode: {},
    requests,
    stalled: () =>
      new Promise<void>((r) => {
        onStall = () => {
          stallSeen = false; // each call waits for a stall it has not seen yet
          onStall = null;
          r();
        };
        if (stallSeen) onStall();
      }),
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, hub.base);
    const mode = hub.mode;
    requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    if (mode.auth && req.headers.authorization !== 'Bearer hf_good') {
      res.writeHead(401, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo' }).end('{"error":"Access to model org/model is restricted."}');
      return;
    }
    let m = url.pathname.match(/^\/api\/models\/(org\/model)\/revision\/([^/]+)$/);
    if (m) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ _id: '1', id: m[1], sha: HUB_COMMIT, lastModified: '2026-01-01' }));
    if (url.pathname.startsWith('/api/models/')) {
      if (url.pathname.startsWith('/api/models/org/model/tree/')) {
        const tree = Object.entries(HUB_FILES).map(([path, f]) => ({ type: 'file', path, size: f.lfs ? 134 : f.body.length, oid: gitOid(Buffer.from('pointer')), ...(f.lfs ? { lfs: { oid: sha256(f.body), size: f.body.length, pointerSize: 134 } } : { oid: gitOid(f.body) }) }));
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tree));
      }
      return void res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': 'RepoNotFound' }).end('{"error":"Repository not found"}');
    }
    m = url.pathname.match(/^\/org\/model\/resolve\/([^/]+)\/(.+)$/);
    if (m) {
      const path = decodeURIComponent(m[2]);
      const f = HUB_FILES[path];
      if (!f) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
      const headers = { etag: `"${etagOf(f)}"`, 'x-repo-commit': HUB_COMMIT, ...(f.lfs ? { 'x-linked-etag': `"${sha256(f.body)}"`, 'x-linked-size': String(f.body.length) } : {}) };
      if (f.lfs) return void res.writeHead(302, { ...headers, location: `/cdn/${sha256(f.body)}?file=${encodeURIComponent(path)}` }).end();
      return serve(req, res, f.body, path, headers);
    }
    m = url.pathname.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (m) {
      const path = url.searchParams.get('file')!;
      return serve(req, res, HUB_FILES[path].body, path, {});
    }
    res.writeHead(404).end();
  }

  function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string, headers: Record<string, string>) {
    const mode = hub.mode;
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
    if (mode.stall?.path === path) {
      // Part of the file, then nothing: the connection stays open until the client aborts.
      res.write(payload.subarray(0, mode.stall.bytes), () => {
        stallSeen = true;
        (onStall as (() => void) | null)?.();
      });
      return;
    }
    res.end(payload);
  }

  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}
