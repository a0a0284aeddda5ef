// A project is a folder on disk (DESIGN §2 workspace/):
//   project.json    {schemaVersion, name, createdAt, updatedAt} — written last on create, so a
//                   folder without it is never mistaken for a finished project
//   templates.json  prompt templates, {schemaVersion, templates}
//   datasets/ runs/ cache/
//   project.lock    while open (see lock.ts)
// Every file is replaced through writeJsonAtomic, so a crash mid-save keeps the old version.
import { mkdir, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { EngineError, PROJECT_SCHEMA_VERSION, type ProjectInfo } from '../../../shared/api.js';
import { ioError, isAtomicTempName, writeJsonAtomic } from './atomic.js';
import { parseJsonFile } from './json-file.js';
import { FileLock } from './lock.js';
import { describeSweep, sweepTempLeftovers } from './sweep.js';

export interface WorkspaceOptions {
  /** Who holds the lock, shown to a second opener, e.g. 'Embedsmith desktop'. */
  holder?: string;
}

export interface ProjectPaths {
  projectJson: string;
  datasets: string;
  templates: string;
  runs: string;
  cache: string;
  lock: string;
}

export const TEMPLATES_SCHEMA_VERSION = 1;
export const MAX_PROJECT_NAME = 200;
const DEFAULT_HOLDER = 'Embedsmith';
// Files the OS drops into any folder a file browser has shown; they do not make it "not empty".
const OS_LITTER = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

export function projectPaths(dir: string): ProjectPaths {
  const root = resolve(dir);
  return {
    projectJson: join(root, 'project.json'),
    datasets: join(root, 'datasets'),
    templates: join(root, 'templates.json'),
    runs: join(root, 'runs'),
    cache: join(root, 'cache'),
    lock: join(root, 'project.lock'),
  };
}

/** The trimmed name, or BAD_INPUT saying what is wrong with it. */
export function checkProjectName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed === '') {
    throw new EngineError('BAD_INPUT', `A project name must not be empty (got ${JSON.stringify(name)}). Fix: type a name.`);
  }
  const length = [...trimmed].length;
  if (length > MAX_PROJECT_NAME) {
    throw new EngineError(
      'BAD_INPUT',
      `A project name may have at most ${MAX_PROJECT_NAME} characters; this one has ${length}. Fix: shorten it.`,
      { length, max: MAX_PROJECT_NAME },
    );
  }
  // Names appear in window titles, menus and one-line logs, where a newline or NUL breaks things.
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new EngineError('BAD_INPUT', 'A project name must not contain control characters such as newlines or tabs. Fix: remove them.');
  }
  return trimmed;
}

export class OpenProject {
  readonly dir: string;
  readonly paths: Readonly<ProjectPaths>;
  /** What opening did that the user may want to hear about (stale lock taken over, folders restored). */
  readonly notes: readonly string[];
  #info: ProjectInfo;
  /** Fields of project.json this build does not know; kept so a save does not drop them. */
  #extra: Record<string, unknown>;
  #lock: FileLock;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  /** Use createProject or openProject; this only wraps a folder whose lock is already held. */
  constructor(info: ProjectInfo, extra: Record<string, unknown>, lock: FileLock, notes: readonly string[] = []) {
    this.dir = info.dir;
    this.paths = Object.freeze(projectPaths(info.dir));
    this.#info = { ...info };
    this.#extra = extra;
    this.#lock = lock;
    this.notes = Object.freeze([...notes]);
  }

  get info(): ProjectInfo {
    return { ...this.#info };
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async rename(name: string): Promise<ProjectInfo> {
    const clean = checkProjectName(name);
    this.#assertOpen('rename');
    // Saves run one after another, so the last rename called is the one left on disk.
    const result = this.#queue.then(async () => {
      const next: ProjectInfo = { ...this.#info, name: clean, updatedAt: new Date().toISOString() };
      await writeJsonAtomic(this.paths.projectJson, projectJsonOf(next, this.#extra));
      this.#info = next;
      return this.info;
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Waits for pending saves, then releases the lock. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#queue.then(() => this.#lock.release());
    return this.#closing;
  }

  #assertOpen(action: string): void {
    if (this.closed) {
      throw new EngineError('BAD_INPUT', `Cannot ${action} the project ${this.dir}: it was closed. Fix: open it again.`);
    }
  }
}

export async function createProject(dir: string, name: string, opts: WorkspaceOptions = {}): Promise<OpenProject> {
  const root = resolve(dir);
  const clean = checkProjectName(name);
  const paths = projectPaths(root);
  const before = await listFolder(root);
  if (before !== null) {
    if (before.includes('project.json')) throw alreadyProject(root);
    const other = before.filter((e) => !OS_LITTER.has(e));
    if (other.length > 0) {
      const shown = other.slice(0, 3).join(', ') + (other.length > 3 ? ', …' : '');
      throw new EngineError(
        'BAD_INPUT',
        `Cannot create a project in ${root}: the folder is not empty (it holds ${shown}). ` +
          'Fix: choose an empty folder, or type the name of a new folder to create.',
        { dir: root, entries: other.length },
      );
    }
  }
  await mkdir(root, { recursive: true }).catch((err) => {
    throw ioError(err, root, 'create the folder');
  });
  const { lock, note } = await FileLock.acquire(paths.lock, root, opts.holder ?? DEFAULT_HOLDER, 'project');
  const created: string[] = [];
  try {
    // Another creator may have finished between our check and our lock.
    if (await isFile(paths.projectJson)) throw alreadyProject(root);
    for (const d of [paths.datasets, paths.runs, paths.cache]) {
      await mkdir(d).catch((err) => {
        throw ioError(err, d, 'create the folder');
      });
      created.push(d);
    }
    created.push(paths.templates);
    await writeJsonAtomic(paths.templates, { schemaVersion: TEMPLATES_SCHEMA_VERSION, templates: {} });
    const now = new Date().toISOString();
    const info: ProjectInfo = { dir: root, name: clean, schemaVersion: PROJECT_SCHEMA_VERSION, createdAt: now, updatedAt: now };
    await writeJsonAtomic(paths.projectJson, projectJsonOf(info, {}));
    return new OpenProject(info, {}, lock, note ? [note] : []);
  } catch (err) {
    // Undo only what this call made, so a retry finds the folder as empty as it was.
    for (const p of created.reverse()) await rm(p, { recursive: true, force: true }).catch(() => {});
    await lock.release().catch(() => {});
    throw err;
  }
}

export async function openProject(dir: string, opts: WorkspaceOptions = {}): Promise<OpenProject> {
  const root = resolve(dir);
  const paths = projectPaths(root);
  if ((await listFolder(root)) === null) {
    throw new EngineError('NOT_FOUND', `The folder ${root} does not exist. Fix: choose an existing project folder.`, {
      dir: root,
    });
  }
  if (!(await isFile(paths.projectJson))) {
    throw new EngineError(
      'NOT_FOUND',
      `${root} is not an Embedsmith project: it has no project.json. ` +
        'Fix: choose the folder that holds project.json, or create a new project there.',
      { dir: root },
    );
  }
  // Lock before reading, so we never read a project.json that another holder is replacing.
  const { lock, note } = await FileLock.acquire(paths.lock, root, opts.holder ?? DEFAULT_HOLDER, 'project');
  try {
    const text = await readFile(paths.projectJson, 'utf8').catch((err) => {
      throw ioError(err, paths.projectJson, 'read');
    });
    const { info, extra } = readProjectJson(paths.projectJson, parseJsonFile(paths.projectJson, text), root);
    const notes = note ? [note] : [];
    notes.push(...(await repairLayout(paths)));
    return new OpenProject(info, extra, lock, notes);
  } catch (err) {
    await lock.release().catch(() => {});
    throw err;
  }
}

/** Checks the shape and version of a parsed project.json; SCHEMA errors name the field. */
function readProjectJson(file: string, raw: unknown, dir: string): { info: ProjectInfo; extra: Record<string, unknown> } {
  const bad = (what: string, fix = 'restore project.json from a backup, or correct it in a text editor'): never => {
    throw new EngineError('SCHEMA', `${file}: ${what}. Fix: ${fix}.`, { file });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('the top level must be a JSON object');
  const { schemaVersion, name, createdAt, updatedAt, ...extra } = raw as Record<string, unknown>;
  if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion) || schemaVersion < 1) {
    return bad(`schemaVersion is ${JSON.stringify(schemaVersion)}, which no Embedsmith version writes (this one reads 1 to ${PROJECT_SCHEMA_VERSION})`);
  }
  if (schemaVersion > PROJECT_SCHEMA_VERSION) {
    return bad(
      `it was saved by a newer Embedsmith (schemaVersion ${schemaVersion}; this one reads up to ${PROJECT_SCHEMA_VERSION})`,
      'update Embedsmith to open this project',
    );
  }
  // Older versions would be migrated here; version 1 is the first, so there is nothing to do yet.
  if (typeof name !== 'string' || name.trim() === '') return bad(`"name" must be a non-empty string, got ${JSON.stringify(name)}`);
  for (const [key, v] of [['createdAt', createdAt], ['updatedAt', updatedAt]] as const) {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return bad(`"${key}" must be an ISO 8601 time, got ${JSON.stringify(v)}`);
  }
  return {
    info: { dir, name, schemaVersion: PROJECT_SCHEMA_VERSION, createdAt: createdAt as string, updatedAt: updatedAt as string },
    extra,
  };
}

function projectJsonOf(info: ProjectInfo, extra: Record<string, unknown>): Record<string, unknown> {
  // `dir` stays out of the file: a project folder may be moved or synced to another machine.
  return { schemaVersion: info.schemaVersion, name: info.name, createdAt: info.createdAt, updatedAt: info.updatedAt, ...extra };
}

/**
 * Restores what a user (or a cleaner app) may delete without harm — cache/ above all — and
 * removes temp files an interrupted atomic save left behind. Returns notes for the user.
 */
async function repairLayout(paths: ProjectPaths): Promise<string[]> {
  const notes: string[] = [];
  for (const d of [paths.datasets, paths.runs, paths.cache]) {
    const made = await mkdir(d, { recursive: true }).catch((err) => {
      throw ioError(err, d, 'create the folder');
    });
    if (made !== undefined) notes.push(`Recreated the missing folder ${d}.`);
  }
  if (!(await isFile(paths.templates))) {
    await writeJsonAtomic(paths.templates, { schemaVersion: TEMPLATES_SCHEMA_VERSION, templates: {} });
    notes.push(`Recreated the missing ${paths.templates} with no templates.`);
  }
  const root = resolve(paths.projectJson, '..');
  // The lock is held, so no save of ours is in flight: every temp file here is a leftover.
  const leftovers = ((await listFolder(root)) ?? []).filter(isAtomicTempName);
  for (const name of leftovers) await unlink(join(root, name)).catch(() => {});
  if (leftovers.length > 0) notes.push(`Removed ${leftovers.length} temp file(s) left by an interrupted save.`);
  // Below, jobs of other programs may be writing (a CLI training into runs/): only old leftovers go.
  const swept = describeSweep(await sweepTempLeftovers([paths.datasets, paths.runs, paths.cache], { depth: 3 }));
  if (swept) notes.push(`Swept ${root}: ${swept}`);
  return notes;
}

/** Entry names of a folder, null when absent; BAD_INPUT when the path is a file. */
async function listFolder(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') {
      throw new EngineError('BAD_INPUT', `${dir} is a file, not a folder. Fix: choose a folder.`, { dir });
    }
    throw ioError(err, dir, 'list');
  }
}

/**
 * The project `path` lies in: `path` itself or its nearest parent holding project.json (a
 * dataset is PROJECT/datasets/NAME, a run PROJECT/runs/NAME); null outside any project.
 */
export async function projectHolding(path: string): Promise<string | null> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (await isFile(join(dir, 'project.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

function alreadyProject(dir: string): EngineError {
  return new EngineError(
    'ALREADY_EXISTS',
    `${dir} is already an Embedsmith project. Fix: open it instead, or choose another folder.`,
    { dir },
  );
}
