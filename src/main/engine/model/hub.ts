// `embedsmith pull ORG/NAME[@REVISION]`: download a model repository into the shared Hugging
// Face cache (hub-cache.ts). The hub API calls — repository info (the commit a revision points
// at) and the recursive tree listing (sizes, LFS sha256) — go through @huggingface/hub.
// Its file download (downloadFileToCacheDir) has no progress, no resume and no hash check, and
// holds nothing we could hook, so the byte transfer is ours: a GET of the resolve URL with a
// Range header continuing `<blob>.incomplete`, retried on a dropped connection, verified
// (size, then sha256 for LFS files or the git blob sha1 otherwise) before it becomes the blob.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { EngineError } from '../../../shared/errors.js';
import { modelIdProblem } from '../../../shared/model-id.js';
import { blobName, COMMIT_RE, findCachedSnapshot, hubCacheDir, linkSnapshotFile, repoFolder, verifyBlob, type RemoteFile } from './hub-cache.js';
import { ioError, isFsError } from '../workspace/fs-errors.js';
import type { PulledModel } from '../../../shared/jobs.js';

export interface PullProgress {
  file: string;
  fileBytes: number;
  fileSize: number;
  /** Bytes of all selected files present so far (cached ones count as done). */
  doneBytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export interface PullOptions {
  /** 'ORG/NAME' or 'ORG/NAME@REVISION'. */
  repo: string;
  revision?: string;
  /** Default: HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN. */
  token?: string;
  /** Never touch the network (default: HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Also fetch files the engine never reads (ONNX, OpenVINO, TF/Flax weights, pickles beside safetensors). */
  all?: boolean;
  onProgress?: (p: PullProgress) => void;
  /** Retries of a dropped transfer, each resuming where the last stopped. Default 3. */
  retries?: number;
  /**
   * Stops the pull with a CANCELLED EngineError. A file cut off mid-transfer stays as
   * `<blob>.incomplete` (a correct prefix, resumed by the next pull); blobs appear only by
   * rename after their hash check, so a cancel never leaves a corrupt one.
   */
  signal?: AbortSignal;
}

/** What a pull gives back: the job result the UI shows (fromCache: the network was not used, offline or unreachable, and the cache had it). */
export type PullResult = PulledModel;

// Files an embedder never reads; `all` brings them anyway.
const SKIP = /(^|\/)(onnx|openvino|coreml)\/|\.(h5|msgpack|ot|onnx|onnx_data|gguf|tflite)$|^(tf_model|flax_model|rust_model)\./;

export function parseRepoArg(arg: string): { repo: string; revision: string } {
  const at = arg.indexOf('@');
  const repo = at < 0 ? arg : arg.slice(0, at);
  const revision = at < 0 ? 'main' : arg.slice(at + 1);
  const problem = modelIdProblem(arg); // the rule the UI checks as the user types
  if (problem) {
    throw new EngineError('BAD_INPUT', `'${arg}' is not a model id; write ORG/NAME or ORG/NAME@REVISION, e.g. BAAI/bge-small-en-v1.5@main (${problem})`, { arg });
  }
  return { repo, revision };
}

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const parsed = parseRepoArg(o.repo);
  const repo = parsed.repo;
  const revision = o.revision ?? parsed.revision;
  const cacheDir = o.cacheDir ?? hubCacheDir();
  const hubUrl = (o.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const accessToken = o.token ?? process.env.HF_TOKEN ?? undefined;
  const offline = o.offline ?? ['1', 'true', 'yes'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  const cached = () => findCachedSnapshot(cacheDir, repo, revision);
  const signal = o.signal;
  // Every hub failure is checked against the signal first: an aborted fetch looks like a
  // network error, which must neither be reported as one nor fall back to the cache.
  const stopped = () => new EngineError('CANCELLED', `the download of ${repo} was cancelled; a partly downloaded file is kept and the next pull resumes it`, { repo });
  const hubFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal });
  // @huggingface/hub refuses other tokens with a bare TypeError; say it with the fix instead.
  if (accessToken && !accessToken.startsWith('hf_')) {
    throw new EngineError('BAD_INPUT', `HF_TOKEN does not look like a Hugging Face access token (they start with 'hf_'); copy one from huggingface.co/settings/tokens`);
  }

  // A commit already in the cache never changes: no need to ask the hub.
  if (signal?.aborted) throw stopped();
  const local = offline || COMMIT_RE.test(revision) ? await cached() : undefined;
  if (local) return { repo, commit: local.commit, dir: local.dir, files: [], downloadedBytes: 0, fromCache: true };
  if (offline) {
    throw new EngineError('NOT_FOUND', `${repo}@${revision} is not in the Hugging Face cache ${cacheDir} and offline mode is on (HF_HUB_OFFLINE); unset it to download, or set HF_HUB_CACHE to the cache that has it`, { repo, cacheDir });
  }

  let commit: string;
  try {
    const info = await modelInfo({ name: repo, revision, hubUrl, accessToken, additionalFields: ['sha'], fetch: hubFetch });
    commit = String(info.sha);
  } catch (e) {
    if (signal?.aborted) throw stopped();
    const hubErr = hubError(e, repo, revision, hubUrl, accessToken);
    if (hubErr.code === 'IO') {
      const hit = await cached(); // the hub is unreachable: a cached copy is the next best thing
      if (hit) return { repo, commit: hit.commit, dir: hit.dir, files: [], downloadedBytes: 0, fromCache: true };
    }
    throw hubErr;
  }
  if (!COMMIT_RE.test(commit)) throw new EngineError('SCHEMA', `${hubUrl} returned commit ${JSON.stringify(commit)} for ${repo}@${revision}, not a 40-hex id`);

  const remote: RemoteFile[] = [];
  try {
    for await (const e of listFiles({ repo, revision: commit, recursive: true, hubUrl, accessToken, fetch: hubFetch })) {
      if (e.type !== 'file') continue;
      remote.push({ path: e.path, size: e.lfs?.size ?? e.size, sha256: e.lfs?.oid, gitOid: e.lfs ? undefined : e.oid });
    }
  } catch (e) {
    if (signal?.aborted) throw stopped();
    throw hubError(e, repo, revision, hubUrl, accessToken);
  }
  const hasSafetensors = remote.some((f) => f.path.endsWith('.safetensors'));
  // pytorch_model.bin only where there is no safetensors: the loader then explains how to convert.
  const files = o.all ? remote : remote.filter((f) => !SKIP.test(f.path) && !(hasSafetensors && /(^|\/)pytorch_model.*\.bin(\.index\.json)?$/.test(f.path)));

  const folder = repoFolder(cacheDir, repo);
  await mkdir(join(folder, 'blobs'), { recursive: true });
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  let doneBytes = 0;
  let downloadedBytes = 0;
  let filesDone = 0;
  for (const f of files) {
    if (signal?.aborted) throw stopped();
    const blob = join(folder, 'blobs', blobName(f));
    const have = await stat(blob).catch(() => undefined);
    if (!have || have.size !== f.size) {
      const url = `${hubUrl}/${repo}/resolve/${commit}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
      try {
        downloadedBytes += await downloadBlob(url, blob, f, accessToken, o.retries ?? 3, signal, (n) =>
          o.onProgress?.({ file: f.path, fileBytes: n, fileSize: f.size, doneBytes: doneBytes + n, totalBytes, filesDone, filesTotal: files.length }),
        );
      } catch (e) {
        if (signal?.aborted) throw stopped();
        throw e;
      }
    }
    await linkSnapshotFile(folder, commit, f.path, blobName(f));
    doneBytes += f.size;
    filesDone++;
    o.onProgress?.({ file: f.path, fileBytes: f.size, fileSize: f.size, doneBytes, totalBytes, filesDone, filesTotal: files.length });
  }
  if (revision !== commit) {
    await mkdir(join(folder, 'refs', revision, '..'), { recursive: true });
    await writeFile(join(folder, 'refs', revision), commit);
  }
  return { repo, commit, dir: join(folder, 'snapshots', commit), files: files.map((f) => f.path), downloadedBytes, fromCache: false };
}

/** Fetches `url` into `blob` through `blob.incomplete`, resuming it; returns bytes transferred. */
async function downloadBlob(url: string, blob: string, f: RemoteFile, token: string | undefined, retries: number, signal: AbortSignal | undefined, progress: (bytes: number) => void): Promise<number> {
  const partial = `${blob}.incomplete`;
  let transferred = 0;
  for (let attempt = 0; ; attempt++) {
    const start = (await stat(partial).catch(() => undefined))?.size ?? 0;
    try {
      if (start < f.size) {
        const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
        if (token) headers.Authorization = `Bearer ${token}`;
        const res = await fetch(url, { headers, redirect: 'follow', signal });
        if (!res.ok || !res.body) throw hubError(new HubApiError(url, res.status), f.path, '', url, token, res.status);
        // 206: the server continues where we stopped; 200: it ignored the range, start over.
        const append = res.status === 206 && start > 0;
        const counter = append ? start : 0;
        let n = counter;
        const body = Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
        body.on('data', (c: Buffer) => {
          n += c.length;
          transferred += c.length;
          progress(n);
        });
        // On abort the pipeline destroys both ends; what reached the file is a prefix of the blob.
        await pipeline(body, createWriteStream(partial, { flags: append ? 'a' : 'w' }), { signal });
      }
      try {
        await verifyBlob(partial, f);
      } catch (e) {
        await rm(partial, { force: true }); // a wrong file must not be resumed from
        throw e;
      }
      await rename(partial, blob);
      return transferred;
    } catch (e) {
      if (signal?.aborted) throw e; // the caller turns it into CANCELLED; never retried
      // A full or read-only disk does not heal by retrying: say so, naming the file.
      if (isFsError(e) && DISK_CODES.has(e.code!)) throw ioError(e, partial, 'write');
      const retryable = !(e instanceof EngineError) || (e.code === 'IO' && !/hash|downloaded/.test(e.message));
      if (!retryable || attempt >= retries) {
        if (e instanceof EngineError) throw e;
        throw new EngineError('IO', `${f.path}: the download broke off (${(e as Error).message}) after ${retries} retries; the partial file is kept and the next pull resumes it`, { path: f.path });
      }
    }
  }
}

const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EACCES', 'EPERM', 'EROFS']);

/** A hub failure as an EngineError with the fix for its cause. */
function hubError(e: unknown, repo: string, revision: string, hubUrl: string, token: string | undefined, status?: number): EngineError {
  const code = status ?? (e instanceof HubApiError ? e.statusCode : undefined);
  if (code === 401 || code === 403) {
    return new EngineError(
      'BAD_INPUT',
      token
        ? `${hubUrl} refused access to ${repo} with the token in HF_TOKEN (HTTP ${code}); check that the token is valid and that you accepted the model's terms on its page`
        : `${hubUrl} requires authentication for ${repo} (HTTP ${code}): a private or gated model. Set HF_TOKEN to an access token (huggingface.co/settings/tokens) and accept the model's terms on its page`,
      { repo, status: code },
    );
  }
  if (code === 404) return new EngineError('NOT_FOUND', `model not found: ${repo}${revision ? `@${revision}` : ''} on ${hubUrl}; check the name (ORG/NAME, as on the model's page) and the revision`, { repo, status: 404 });
  if (code !== undefined) return new EngineError('IO', `${hubUrl} answered HTTP ${code} for ${repo}; try again later`, { repo, status: code });
  return new EngineError('IO', `could not reach ${hubUrl} (${(e as Error).message}); check the network, or HF_ENDPOINT if you use a mirror`, { repo });
}
