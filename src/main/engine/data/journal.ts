// The edit journal of a dataset folder (edits.jsonl): one JSON object per line, only ever
// appended. rows.jsonl stays as imported; what readers see is rows.jsonl with the journal
// replayed over it, so no edit destroys anything and every edit can be undone.
//
// Rows have stable 0-based indices: rows.jsonl's order, then added rows in the order they were
// added. A delete leaves a gap rather than shifting later rows, so split.json and every
// journal entry keep naming the same rows.
//
// Undo and redo are entries too (op 'undo' / 'redo' naming the edit's id): replaying them as a
// stack gives the edits in effect. A new edit after an undo drops the redo stack, as editors do.
//
// Crash safety: an entry is one write of one line, fsynced before the call returns. A crash
// mid-write can only leave a torn last line: readers ignore it with a warning, and the next
// append cuts it off first so the new entry does not land after garbage.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ioError } from '../workspace/atomic.js';
import { readTextIfExists } from '../workspace/fs-errors.js';
import type { DatasetRow } from './types.js';

export const EDIT_OPS = ['add', 'change', 'delete', 'relabel'] as const;
export type EditOp = (typeof EDIT_OPS)[number];

export interface EditEntry {
  /** 1, 2, 3 … in journal order (undo and redo entries included). */
  id: number;
  /** ISO 8601 time of the edit. */
  time: string;
  op: EditOp | 'undo' | 'redo';
  /** Edits: the row's stable 0-based index. */
  index?: number;
  /** Edits: the row before (null for add) and after (null for delete). */
  before?: DatasetRow | null;
  after?: DatasetRow | null;
  /** undo / redo: the id of the edit undone or redone. */
  target?: number;
}

export interface Journal {
  path: string;
  entries: EditEntry[];
  /** Why a line was ignored (a torn last line after a crash). */
  warnings: string[];
  /** Bytes of the file up to the end of its last good entry: appends go there. */
  goodBytes: number;
}

export const journalPath = (dir: string) => join(dir, 'edits.jsonl');

export async function readJournal(dir: string): Promise<Journal> {
  const path = journalPath(dir);
  const text = await readTextIfExists(path);
  if (text === undefined) return { path, entries: [], warnings: [], goodBytes: 0 };
  const lines = text.split('\n');
  const complete = lines.pop() === ''; // the text after the last newline: '' unless torn
  const warnings: string[] = [];
  if (!complete) warnings.push(`${path} line ${lines.length + 1}: an edit cut short (a crash while it was saved) was ignored; the edits before it are intact.`);
  const entries: EditEntry[] = [];
  let goodBytes = 0;
  lines.forEach((line, i) => {
    const entry = parseEntry(line);
    if (entry) {
      entries.push(entry);
      goodBytes += Buffer.byteLength(line) + 1;
    }
    // A damaged final line, even newline-terminated, is the same torn write (a filesystem may
    // persist the length before the data); damage before it is not, and is not guessed past.
    else if (i === lines.length - 1 && complete) warnings.push(`${path} line ${i + 1}: an unreadable last edit (a crash while it was saved?) was ignored.`);
    else {
      throw new EngineError('SCHEMA', `${path} line ${i + 1} is not an edit entry. Fix: restore the file from a backup, or delete that line and the ones after it (those edits are lost; rows.jsonl is untouched).`, {
        file: path,
        line: i + 1,
      });
    }
  });
  return { path, entries, warnings, goodBytes };
}

function parseEntry(line: string): EditEntry | undefined {
  try {
    const e = JSON.parse(line) as EditEntry;
    const known = (EDIT_OPS as readonly string[]).includes(e?.op) ? Number.isInteger(e.index) : (e?.op === 'undo' || e?.op === 'redo') && Number.isInteger(e.target);
    return known && Number.isInteger(e.id) ? e : undefined;
  } catch {
    return undefined;
  }
}

/** Appends one entry durably after the good part of `journal` (just read), cutting off a torn tail. */
export async function appendJournal(dir: string, journal: Journal, entry: EditEntry): Promise<void> {
  const path = journal.path;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'a');
    const { size } = await fh.stat();
    if (size > journal.goodBytes) await fh.truncate(journal.goodBytes);
    await fh.write(JSON.stringify(entry) + '\n');
    await fh.sync();
  } catch (e) {
    throw ioError(e, path, 'save the edit to');
  } finally {
    await fh?.close().catch(() => {});
  }
  if (journal.goodBytes === 0) await syncFolder(dir); // a new journal: its name must survive a crash too
}

async function syncFolder(dir: string): Promise<void> {
  // Windows cannot fsync a folder (NTFS journals the name): the failure there is expected.
  const fh = await open(dir, 'r').catch(() => undefined);
  await fh?.sync().catch(() => {});
  await fh?.close().catch(() => {});
}

export interface Replayed {
  /** Edits in effect, oldest first. */
  active: EditEntry[];
  /** Undone edits that redo would restore, the next one last. */
  redoable: EditEntry[];
}

export function replay({ entries, path }: Pick<Journal, 'entries' | 'path'>): Replayed {
  const active: EditEntry[] = [];
  let redoable: EditEntry[] = [];
  for (const e of entries) {
    if (e.op === 'undo' || e.op === 'redo') {
      const from = e.op === 'undo' ? active : redoable;
      const top = from.pop();
      if (!top || top.id !== e.target) {
        throw new EngineError('SCHEMA', `${path}: entry ${e.id} ${e.op}s edit ${e.target}, but the edit to ${e.op} there is ${top ? top.id : 'none'}. Fix: restore the file from a backup.`, { file: path, id: e.id });
      }
      (e.op === 'undo' ? redoable : active).push(top);
    } else {
      active.push(e);
      redoable = [];
    }
  }
  return { active, redoable };
}

/** Index → the row as the edits in effect leave it (null: deleted). Later edits win. */
export function rowOverrides(active: EditEntry[]): Map<number, DatasetRow | null> {
  const out = new Map<number, DatasetRow | null>();
  for (const e of active) out.set(e.index!, e.after ?? null);
  return out;
}
