// Checks on an output path before anything is written (issue 14: "writes never destroy"). A
// folder output over an existing file would replace the file (export used to delete it); an
// output inside the folder it is made from changes the input while it is read (`dataset export
// DS --out DS/rows.jsonl` used to empty the dataset). Both are refused as BAD_INPUT (exit 2),
// naming the path and the fix, before the source is even opened.
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { EngineError } from '../../../shared/errors.js';

export interface OutSource {
  path: string;
  /** How the user gave it, e.g. '--data' or 'DATASET_DIR'. */
  what: string;
}

/**
 * Refuses `out` when it exists as the wrong kind (a file where a folder goes, or a folder
 * where a file goes) or lies inside (or is) one of `sources`. `flag` names the option.
 */
export async function checkOutPath(out: string, kind: 'file' | 'folder', sources: readonly OutSource[] = [], flag = '--out'): Promise<void> {
  const existing = await stat(out).catch(() => null);
  if (existing && kind === 'folder' && !existing.isDirectory()) {
    throw new EngineError('BAD_INPUT', `${flag} ${out} is an existing file; this writes a folder there, which would destroy the file. Fix: give a new folder name for ${flag} (the file is left as it is).`, {
      setting: flag.replace(/^--/, ''),
      path: out,
    });
  }
  if (existing && kind === 'file' && existing.isDirectory()) {
    throw new EngineError('BAD_INPUT', `${flag} ${out} is a folder; this writes a file. Fix: give a file name for ${flag}, e.g. ${join(out, 'out.jsonl')}.`, { setting: flag.replace(/^--/, ''), path: out });
  }
  const outReal = await realTarget(out);
  for (const src of sources) {
    const srcReal = await realTarget(src.path);
    const rel = relative(srcReal, outReal);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new EngineError(
        'BAD_INPUT',
        `${flag} ${out} lies inside ${src.what} ${src.path}, which this command reads: writing there would change or destroy its input. ` +
          `Fix: write outside it, e.g. ${flag} ${join(dirname(resolve(src.path)), `${basename(resolve(src.path))}-out${kind === 'file' ? '.jsonl' : ''}`)}.`,
        { setting: flag.replace(/^--/, ''), path: out, source: src.path },
      );
    }
  }
}

/** The real path of `p`, resolving symlinks in the part that exists (the rest may not yet). */
async function realTarget(p: string): Promise<string> {
  let head = resolve(p);
  const tail: string[] = [];
  for (;;) {
    const real = await realpath(head).catch(() => null);
    if (real !== null) return join(real, ...tail.reverse());
    const up = dirname(head);
    if (up === head) return resolve(p);
    tail.push(basename(head));
    head = up;
  }
}
