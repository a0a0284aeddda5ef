// Path helpers for suggesting a new project's folder. The renderer has no `node:path`, and the
// engine may run on Windows while this page runs anywhere, so the separator is taken from the
// engine's own default folder.

/** A folder name from a project name: "Support tickets (EN)" → "support-tickets-en". */
export function folderNameFor(projectName: string): string {
  const slug = projectName
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'project';
}

export function joinPath(parent: string, child: string): string {
  const sep = parent.includes('\\') && !parent.includes('/') ? '\\' : '/';
  const trimmed = parent.replace(/[\\/]+$/, '');
  // A bare root ("/" or "C:\") trims to "" or "C:", and joins back to "/child" or "C:\child".
  return trimmed + sep + child;
}
