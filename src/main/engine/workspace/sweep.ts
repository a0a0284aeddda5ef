// Sweeping the temp leftovers of interrupted writes (issue 14 item 13). Every writer puts its
// work beside the target under a hidden temp name and renames it into place; a kill or a power
// cut in between leaves the temp behind (up to a model's size each). These are every name the
// code uses now (atomic.ts tempPathFor) or used before, and nothing else:
//   .<name>.<12 hex>.tmp         files (writeFileAtomic, exports), model and checkpoint folders,
//                                lock files being created
//   .<name>.<12 hex>.tmp.old     a model folder stepping aside for its replacement (save.ts)
//   .<name>.<12 hex>.import      dataset folders being written (write-folder.ts)
//   .<name>.<8 hex>.tmp          checkpoint folders of earlier versions (.step-N…, .best…)
//   metrics.jsonl.<8 hex>.tmp    metrics.jsonl rewrites of earlier versions
//   .model.<pid>.tmp             pretrain's final copy, earlier versions
//   <name>.<pid>.tmp             embed --out, earlier versions
//   consistency.jsonl.tmp, model.onnx_data.tmp   earlier versions
//   <name>.lock.stale-<12 hex>   a stale lock moved aside during a takeover
// Only leftovers older than a day go: a younger one may belong to a writer still running (a
// model save takes seconds, an import minutes). A `.tmp.old` whose folder is missing is the only
// copy left by a kill between save.ts's two renames: it is renamed back, not deleted.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const PATTERNS: readonly RegExp[] = [
  /^\..+\.[0-9a-f]{12}\.(tmp|import)$/,
  /^\..+\.[0-9a-f]{8}\.tmp$/,
  /^(metrics\.jsonl|config\.json)\.[0-9a-f]{8}\.tmp$/,
  /^\.model\.\d+\.tmp$/,
  /^.+\.(jsonl|npy)\.\d+\.tmp$/,
  /^consistency\.jsonl\.tmp$/,
  /^.+\.onnx_data\.tmp$/,
  /^.+\.lock\.stale-[0-9a-f]{12}$/,
];
const OLD_FOLDER = /^\.(.+)\.[0-9a-f]{12}\.tmp\.old$/;

export const SWEEP_AGE_MS = 24 * 3600 * 1000;

export function isTempLeftoverName(name: string): boolean {
  return OLD_FOLDER.test(name) || PATTERNS.some((re) => re.test(name));
}

export interface SweepResult {
  removed: string[];
  /** Model folders put back from their `.tmp.old` copy. */
  restored: string[];
}

/**
 * Removes temp leftovers older than `ageMs` in each of `dirs` and, down to `depth` levels, in
 * the folders below them. Missing folders are skipped; failures to remove are ignored (the
 * next sweep tries again), never thrown: a sweep must not stop the command that runs it.
 */
export async function sweepTempLeftovers(dirs: readonly string[], opts: { depth?: number; ageMs?: number; now?: number } = {}): Promise<SweepResult> {
  const out: SweepResult = { removed: [], restored: [] };
  const cutoff = (opts.now ?? Date.now()) - (opts.ageMs ?? SWEEP_AGE_MS);
  const seen = new Set<string>();
  for (const d of dirs) await sweepDir(d, opts.depth ?? 0, cutoff, out, seen);
  return out;
}

async function sweepDir(dir: string, depth: number, cutoff: number, out: SweepResult, seen: Set<string>): Promise<void> {
  if (seen.has(dir)) return;
  seen.add(dir);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (!entries) return;
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    const old = OLD_FOLDER.exec(e.name);
    if (old || PATTERNS.some((re) => re.test(e.name))) {
      if ((await newestMtime(path, e.isDirectory())) > cutoff) continue;
      if (old && !names.has(old[1])) {
        const back = join(dir, old[1]);
        if (await rename(path, back).then(() => true, () => false)) out.restored.push(back);
        continue;
      }
      if (await rm(path, { recursive: true, force: true }).then(() => true, () => false)) out.removed.push(path);
    } else if (e.isDirectory() && depth > 0 && !e.name.startsWith('.') && e.name !== 'node_modules') {
      await sweepDir(path, depth - 1, cutoff, out, seen);
    }
  }
}

/** The newest mtime of a file, or of a folder and its direct entries (a folder being filled). */
async function newestMtime(path: string, isDir: boolean): Promise<number> {
  const own = (await stat(path).catch(() => null))?.mtimeMs ?? Infinity;
  if (!isDir) return own;
  let newest = own;
  for (const name of await readdir(path).catch(() => [] as string[])) newest = Math.max(newest, (await stat(join(path, name)).catch(() => null))?.mtimeMs ?? 0);
  return newest;
}

/** One line for the user, or null when nothing was swept. */
export function describeSweep(r: SweepResult): string | null {
  if (r.removed.length === 0 && r.restored.length === 0) return null;
  const parts: string[] = [];
  if (r.removed.length) parts.push(`removed ${r.removed.length} temp leftover(s) of interrupted writes, older than a day: ${r.removed.join(', ')}`);
  if (r.restored.length) parts.push(`restored ${r.restored.length} model folder(s) an interrupted save had moved aside: ${r.restored.join(', ')}`);
  return parts.join('; ') + '.';
}
