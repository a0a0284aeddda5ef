// Names and default paths the Evaluate, Embeddings and Export pages derive from folders the
// user picked. Folders are the engine's absolute paths (POSIX or Windows); joinPath keeps
// their separator.
import { folderNameFor, joinPath } from './paths.js';

/** The last segment of a path. */
export function baseName(path: string): string {
  return path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? path;
}

/**
 * A short name for a model folder: a training run's RUN/model is named after the run, a
 * Hugging Face cache snapshot (models--ORG--NAME/snapshots/COMMIT) after the model.
 */
export function modelName(dir: string): string {
  const parts = dir.replace(/[\\/]+$/, '').split(/[\\/]/).filter(Boolean);
  const at = parts.length - 1;
  if (at >= 2 && parts[at - 1] === 'snapshots' && parts[at - 2].startsWith('models--')) return parts[at - 2].split('--').pop()!;
  if (at >= 1 && parts[at] === 'model') return parts[at - 1];
  return parts[at] ?? dir;
}

/** PROJECT/export/<model name>, the export page's suggested destination. */
export function defaultExportDir(projectDir: string, modelDir: string): string {
  return joinPath(joinPath(projectDir, 'export'), folderNameFor(modelName(modelDir)));
}

/** A file in PROJECT/cache, which every project has (the engine makes it with the project). */
export function cacheFile(projectDir: string, name: string): string {
  return joinPath(joinPath(projectDir, 'cache'), name);
}
