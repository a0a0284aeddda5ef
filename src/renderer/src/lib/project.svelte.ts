// The open project and the recent-projects list, as the Project page and the status bar see
// them. Every engine call goes through #run so busy and error are handled one way: errors are
// kept as data (code + message with the fix) for the UI to show, never swallowed.
import {
  EngineError,
  type EngineApi,
  type ErrorData,
  type FolderDialogOptions,
  type ProjectInfo,
  type RecentProject,
} from '../../../shared/api.js';
import { OneAtATime } from './one-at-a-time.svelte.js';

export class ProjectState {
  #engine: EngineApi;
  #current = $state.raw<ProjectInfo | null>(null);
  #recents = $state.raw<RecentProject[]>([]);
  /** What is running now ('Opening project…'), or null when idle. */
  #one = new OneAtATime();
  #loaded = $state(false);
  #unsubscribe: () => void;

  constructor(engine: EngineApi) {
    this.#engine = engine;
    // The open project can change from elsewhere (the desktop menu, another browser tab on
    // the bridge), so follow the engine's event rather than only our own calls' results.
    this.#unsubscribe = engine.onProjectChanged((project) => {
      this.#current = project;
      // A background refresh: if it fails the list is only stale, and the next action that
      // lists recents reports the error; showing it here would blame an unrelated click, so
      // it goes to the console.
      engine.listRecentProjects().then(
        (recents) => (this.#recents = recents),
        (err: unknown) => console.warn('embedsmith: the recent projects could not be refreshed:', EngineError.toData(err).message),
      );
    });
  }

  get current(): ProjectInfo | null {
    return this.#current;
  }
  get recents(): RecentProject[] {
    return this.#recents;
  }
  get busy(): string | null {
    return this.#one.doing;
  }
  get error(): ErrorData | null {
    return this.#one.error;
  }
  /** True once the first load finished (either way), so the page can tell "none open" from "not asked yet". */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Restores what the engine has open (it outlives page reloads) and the recent list. */
  async load(): Promise<boolean> {
    const ok = await this.#run('Loading projects…', async () => {
      const [current, recents] = await Promise.all([this.#engine.currentProject(), this.#engine.listRecentProjects()]);
      this.#current = current;
      this.#recents = recents;
    });
    this.#loaded = true;
    return ok;
  }

  create(dir: string, name: string): Promise<boolean> {
    return this.#run('Creating project…', async () => {
      this.#current = await this.#engine.createProject(dir.trim(), name.trim());
      await this.#refreshRecents();
    });
  }

  open(dir: string): Promise<boolean> {
    return this.#run('Opening project…', async () => {
      this.#current = await this.#engine.openProject(dir.trim());
      await this.#refreshRecents();
    });
  }

  rename(name: string): Promise<boolean> {
    return this.#run('Renaming project…', async () => {
      this.#current = await this.#engine.renameProject(name.trim());
      await this.#refreshRecents(); // the recent list shows names too
    });
  }

  close(): Promise<boolean> {
    return this.#run('Closing project…', async () => {
      await this.#engine.closeProject();
      this.#current = null;
      await this.#refreshRecents();
    });
  }

  forget(dir: string): Promise<boolean> {
    return this.#run('Forgetting project…', async () => {
      this.#recents = await this.#engine.forgetRecentProject(dir);
    });
  }

  /** A native folder picker (desktop only); null when dismissed or when it failed (error is set). */
  async chooseFolder(options: FolderDialogOptions): Promise<string | null> {
    let chosen: string | null = null;
    await this.#run(null, async () => {
      chosen = await this.#engine.chooseFolder(options);
    });
    return chosen;
  }

  dismissError(): void {
    this.#one.dismiss();
  }

  dispose(): void {
    this.#unsubscribe();
  }

  async #refreshRecents(): Promise<void> {
    this.#recents = await this.#engine.listRecentProjects();
  }

  /**
   * Runs one engine action; resolves false when it failed (the error is then in `error`) or
   * when another action was still running: project actions change one shared engine state,
   * so overlapping them (double clicks) would race.
   */
  #run(label: string | null, action: () => Promise<void>): Promise<boolean> {
    return this.#one.run(label ?? 'Waiting for the folder dialog…', action);
  }
}
