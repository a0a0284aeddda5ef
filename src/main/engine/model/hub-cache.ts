// The Hugging Face hub cache, laid out as huggingface_hub (Python) and @huggingface/hub lay it:
//   <cache>/models--ORG--NAME/blobs/<etag>               file contents (etag = LFS sha256 or git blob sha1)
//   <cache>/models--ORG--NAME/blobs/<etag>.incomplete    a download in progress (resumed by either tool)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>  relative symlinks to the blobs
//   <cache>/models--ORG--NAME/refs/<revision>            the commit a branch or tag pointed at
// <cache> = HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (getHFHubCachePath).
// Sharing the layout means a model Python tools already downloaded is found offline.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, copyFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { getHFHubCachePath } from '@huggingface/hub';
import { EngineError } from '../../../shared/errors.js';

export const COMMIT_RE = /^[0-9a-f]{40}$/;

export function hubCacheDir(): string {
  return getHFHubCachePath();
}

export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/** The cached snapshot for `revision` (branch, tag or commit), or undefined when there is none. */
export async function findCachedSnapshot(cacheDir: string, repo: string, revision: string): Promise<{ dir: string; commit: string } | undefined> {
  const folder = repoFolder(cacheDir, repo);
  let commit = revision;
  if (!COMMIT_RE.test(revision)) {
    // Revisions with '/' (e.g. refs/pr/1) are nested folders under refs/, as Python writes them.
    const ref = await readFile(join(folder, 'refs', revision), 'utf8').catch(() => undefined);
    if (ref === undefined) return undefined;
    commit = ref.trim();
  }
  const dir = join(folder, 'snapshots', commit);
  const s = await stat(dir).catch(() => undefined);
  return s?.isDirectory() ? { dir, commit } : undefined;
}

/** Links snapshots/<commit>/<path> to blobs/<etag> (a relative symlink; a copy where links fail, as on Windows without developer mode). */
export async function linkSnapshotFile(folder: string, commit: string, path: string, etag: string): Promise<void> {
  const link = join(folder, 'snapshots', commit, path);
  const blob = join(folder, 'blobs', etag);
  await mkdir(dirname(link), { recursive: true });
  await rm(link, { force: true });
  try {
    await symlink(relative(dirname(link), blob), link);
  } catch {
    await copyFile(blob, link);
  }
}

/** Expected content of one file, as the hub's tree listing gives it. */
export interface RemoteFile {
  path: string;
  size: number;
  /** LFS files: sha256 of the content (also the blob name). */
  sha256?: string;
  /** Non-LFS files: the git blob id, sha1("blob <size>\0" + content) (also the blob name). */
  gitOid?: string;
}

export function blobName(f: RemoteFile): string {
  const name = f.sha256 ?? f.gitOid;
  if (!name || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(name)) {
    throw new EngineError('SCHEMA', `the hub gave no usable hash for ${f.path} (${JSON.stringify(name)}); try again later`, { path: f.path });
  }
  return name;
}

/** Checks a finished download against the size and hash the hub announced; throws naming both. */
export async function verifyBlob(file: string, f: RemoteFile): Promise<void> {
  const s = await stat(file);
  if (s.size !== f.size) {
    throw new EngineError('IO', `${f.path}: downloaded ${s.size} bytes but the hub lists ${f.size}; the partial file was removed — run the pull again`, { path: f.path });
  }
  const hash = createHash(f.sha256 ? 'sha256' : 'sha1');
  if (!f.sha256) hash.update(`blob ${f.size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const got = hash.digest('hex');
  const want = f.sha256 ?? f.gitOid;
  if (got !== want) {
    throw new EngineError('IO', `${f.path}: content hash ${got} does not match the hub's ${want} (corrupted transfer or proxy); the file was removed — run the pull again`, { path: f.path });
  }
}
