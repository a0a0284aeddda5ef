// The project folder on disk (DESIGN §2 workspace/): create, open with a lock, rename, close,
// the recent-projects list, and the atomic writes every other room uses to save files.
export { writeFileAtomic, writeJsonAtomic } from './atomic.js';
export {
  createProject,
  openProject,
  checkProjectName,
  projectPaths,
  projectHolding,
  OpenProject,
  MAX_PROJECT_NAME,
  TEMPLATES_SCHEMA_VERSION,
  type WorkspaceOptions,
  type ProjectPaths,
} from './project.js';
export { RecentProjects, RECENT_SCHEMA_VERSION } from './recent.js';
export { parseJsonFile } from './json-file.js';
export type { LockInfo } from './lock.js';
