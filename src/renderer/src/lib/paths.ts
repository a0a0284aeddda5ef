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

/**
 * For entries that share a name (four recent projects all called "Embedsmith demo"), the
 * shortest tail of each folder path that no other entry of that name ends with — "…/a/Embedsmith
 * demo" — so they can be told apart at a glance and by their accessible names. Null for an
 * entry whose name is unique (the name alone is enough).
 */
export function distinguishingTails(entries: readonly { dir: string; name: string }[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const byName = new Map<string, string[]>();
  for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e.dir]);
  for (const dirs of byName.values()) {
    if (dirs.length === 1) {
      out.set(dirs[0], null);
      continue;
    }
    const parts = dirs.map((d) => d.split(/[\\/]+/).filter(Boolean));
    for (const [i, own] of parts.entries()) {
      const tail = (k: number, p: string[]) => p.slice(-k).join('/');
      let k = 1;
      // Grow until no other same-named path ends the same way (or the whole path is shown).
      while (k < own.length && parts.some((p, j) => j !== i && tail(k, p) === tail(k, own))) k++;
      out.set(dirs[i], k < own.length ? `…/${tail(k, own)}` : dirs[i]);
    }
  }
  return out;
}
