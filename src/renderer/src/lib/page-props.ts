// What App.svelte gives every page: the engine, the shared state objects, and the engine's
// reachability. Pages take what they need and ignore the rest.
import type { EngineApi, EngineInfo } from '../../../shared/api.js';
import type { JobsState } from './jobs.svelte.js';
import type { PageId } from './pages.js';
import type { ProjectState } from './project.svelte.js';
import type { Router } from './router.svelte.js';
import type { Workbench } from './workbench.svelte.js';

export interface PageProps {
  page: PageId;
  engine: EngineApi;
  jobs: JobsState;
  project: ProjectState;
  workbench: Workbench;
  router: Router;
  info: EngineInfo | null;
  unreachable: boolean;
}
