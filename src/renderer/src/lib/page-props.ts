// What App.svelte gives every page inside a project: the engine, the shared state objects,
// the engine's info and the open project's folder. App shows such a page only once the engine
// has answered and while a project is open (lib/pages.ts), so neither is ever missing here.
// Pages take what they need and ignore the rest.
import type { EngineApi, EngineInfo } from '../../../shared/api.js';
import type { JobsState } from './jobs/jobs.svelte.js';
import type { ProjectState } from './project.svelte.js';
import type { Router } from './router.svelte.js';
import type { Workbench } from './workbench.svelte.js';

export interface PageProps {
  engine: EngineApi;
  jobs: JobsState;
  project: ProjectState;
  workbench: Workbench;
  router: Router;
  info: EngineInfo;
  projectDir: string;
}
