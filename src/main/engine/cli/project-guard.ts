// The CLI honours project.lock (workspace/lock.ts). A project open in the desktop app or in
// `embedsmith serve` has one writer, that program: a CLI command writing into it is refused,
// naming the holder. Otherwise the command holds the project lock while it runs, so the app
// cannot open the project under it; other CLI commands share the project (each dataset and run
// folder has its own lock, which is what keeps two of them apart). A stale, empty or garbage
// project.lock is taken over and reported.
import { EngineError } from '../../../shared/errors.js';
import { FileLock, describeHolder, type LockInfo } from '../workspace/lock.js';
import { projectHolding, projectPaths } from '../workspace/project.js';

/** The lock holder every CLI process records; the guard tells CLI holders from the app by it. */
export const CLI_HOLDER = 'embedsmith CLI';

export interface ProjectGuard {
  release(): Promise<void>;
}

/**
 * Takes (or shares) the project lock of each project the `paths` lie in. `say` hears the
 * notes (a stale lock taken over). Throws LOCKED when another program has the project open.
 */
export async function guardProjects(paths: readonly string[], say: (line: string) => void): Promise<ProjectGuard> {
  const held: FileLock[] = [];
  const release = async () => {
    for (const l of held.splice(0)) await l.release().catch(() => {});
  };
  try {
    const projects = new Set<string>();
    for (const p of paths) {
      const project = await projectHolding(p);
      if (project) projects.add(project);
    }
    for (const project of projects) {
      const lockPath = projectPaths(project).lock;
      try {
        const { lock, note } = await FileLock.acquire(lockPath, project, CLI_HOLDER, 'project');
        held.push(lock);
        if (note) say(note);
      } catch (err) {
        if (!(err instanceof EngineError) || err.code !== 'LOCKED' || typeof err.details?.holder !== 'string') throw err;
        const info = err.details as unknown as LockInfo;
        if (info.holder.startsWith(CLI_HOLDER)) continue; // another CLI command: share
        throw new EngineError(
          'LOCKED',
          `The project ${project} is open in ${describeHolder(info)}, and this command writes into it. ` +
            `Fix: close the project there (or quit that program), then run the command again; if it is no longer running, delete ${lockPath}.`,
          err.details,
        );
      }
    }
    return { release };
  } catch (err) {
    await release();
    throw err;
  }
}
