// The recent-projects list: a small JSON file in the app's state folder (not in any project),
// {schemaVersion, projects: [{dir, name, openedAt}]}, newest first. It is a convenience, so
// a damaged file must never stop the app: it is moved aside to recent.json.bad (for a bug
// report) and the list starts empty.
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { EngineError, type ProjectInfo, type RecentProject } from '../../../shared/api.js';
import { ioError, writeJsonAtomic } from './atomic.js';
import { readTextIfExists } from './fs-errors.js';

export const RECENT_SCHEMA_VERSION = 1;

type Entry = Omit<RecentProject, 'exists'>;

export class RecentProjects {
  readonly file: string;
  readonly max: number;
  // One read-modify-write at a time, so two quick touches in this process cannot lose one.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string, max = 20) {
    if (!Number.isInteger(max) || max < 1) {
      throw new EngineError('BAD_INPUT', `The recent-projects limit must be a whole number ≥ 1, got ${max}.`);
    }
    this.file = resolve(file);
    this.max = max;
  }

  /** Newest first; `exists` says whether the folder still holds a project.json. */
  list(): Promise<RecentProject[]> {
    return this.#serial(async () => withExists(await this.#load()));
  }

  /** Puts the project at the top (once), stamped now; drops the oldest past `max`. */
  touch(info: ProjectInfo): Promise<void> {
    return this.#serial(async () => {
      const dir = resolve(info.dir);
      const rest = (await this.#load()).filter((e) => !sameDir(e.dir, dir));
      await this.#save([{ dir, name: info.name, openedAt: new Date().toISOString() }, ...rest]);
    });
  }

  /** Removes the project from the list (the folder is untouched); returns the new list. */
  forget(dir: string): Promise<RecentProject[]> {
    return this.#serial(async () => {
      const entries = await this.#load();
      const kept = entries.filter((e) => !sameDir(e.dir, resolve(dir)));
      if (kept.length !== entries.length) await this.#save(kept);
      return withExists(kept);
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #load(): Promise<Entry[]> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return [];
    const entries = parseRecent(text);
    if (entries === null) {
      await rename(this.file, this.file + '.bad').catch(() => {});
      return [];
    }
    // File order is the order: touch() always writes newest first. Sorting by openedAt instead
    // would misplace a fresh entry after the clock was set back.
    const unique: Entry[] = [];
    for (const e of entries) if (!unique.some((u) => sameDir(u.dir, e.dir))) unique.push(e);
    return unique.slice(0, this.max);
  }

  async #save(entries: Entry[]): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true }).catch((err) => {
      throw ioError(err, dirname(this.file), 'create the folder');
    });
    await writeJsonAtomic(this.file, { schemaVersion: RECENT_SCHEMA_VERSION, projects: entries.slice(0, this.max) });
  }
}

/** Entries of a recent.json, or null when the file as a whole is unusable. */
function parseRecent(text: string): Entry[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return null;
  }
  const projects = (raw as { projects?: unknown } | null)?.projects;
  if (!Array.isArray(projects)) return null;
  // One bad entry (a hand edit, an older build) costs that entry only, not the whole list.
  return projects.flatMap((p: Record<string, unknown> | null): Entry[] =>
    typeof p?.dir === 'string' &&
    typeof p.name === 'string' &&
    typeof p.openedAt === 'string' &&
    !Number.isNaN(Date.parse(p.openedAt))
      ? [{ dir: resolve(p.dir), name: p.name, openedAt: p.openedAt }]
      : [],
  );
}

async function withExists(entries: Entry[]): Promise<RecentProject[]> {
  return Promise.all(
    entries.map(async (e) => ({
      ...e,
      exists: (await stat(join(e.dir, 'project.json')).catch(() => null))?.isFile() ?? false,
    })),
  );
}

// Windows paths are case-insensitive; elsewhere two spellings may be two folders.
function sameDir(a: string, b: string): boolean {
  return process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
}
