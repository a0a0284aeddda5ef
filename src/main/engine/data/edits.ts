// Edits to a dataset (issue 5: "edits (add, change, delete, relabel) kept with a history that
// can be undone"). Each edit is checked by the importer's own RowChecker — an edited row meets
// the rules an imported one did — and appended to the journal (journal.ts); rows.jsonl is
// never touched, so undo is always possible and nothing is lost.
import { resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { EDIT_OPS, appendJournal, readJournal, replay, type EditEntry, type Journal } from './journal.js';
import { readDatasetMeta, readImportedRows, readRowsWithEdits, withDatasetLock } from './store.js';
import type { ColumnMapping, DatasetMeta, DatasetRow, ImportIssue } from './types.js';
import { RowChecker } from './validate.js';

export { EDIT_OPS, type EditEntry, type EditOp } from './journal.js';

/** Field values as given (JSON): role names, `negatives` as a list or negative_1, negative_2 …; null removes a field. */
export type RowFields = Record<string, unknown>;

export type EditRequest =
  | { op: 'add'; row: RowFields }
  /** The fields given replace the row's, the others are kept; negative_K replaces the K-th negative only. */
  | { op: 'change'; index: number; fields: RowFields }
  | { op: 'delete'; index: number }
  | { op: 'relabel'; index: number; label: string };

export interface EditResult {
  entry: EditEntry;
  /** What the row checker noticed but allowed (e.g. anchor equals positive). */
  warnings: ImportIssue[];
}

export interface EditHistory {
  /** Every journal entry, oldest first; edits not in effect are marked undone. */
  entries: (EditEntry & { undone: boolean })[];
  canUndo: boolean;
  canRedo: boolean;
  /** Journal lines ignored (a torn last line after a crash). */
  warnings: string[];
}

// One edit at a time per folder: an edit reads the journal, then appends, so a second writer
// reading before the first appends would write a stale entry over it. Within this process a
// queue orders them; across processes (two CLIs, the app and the CLI) the dataset lock does.
const queues = new Map<string, Promise<unknown>>();
function serial<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(dir);
  const run = (queues.get(key) ?? Promise.resolve()).catch(() => {}).then(() => withDatasetLock(dir, fn));
  queues.set(key, run);
  return run;
}

export function applyEdit(dir: string, edit: EditRequest): Promise<EditResult> {
  return serial(dir, async () => {
    const meta = await editableMeta(dir);
    const journal = await readJournal(dir);
    const entry: EditEntry = { id: nextId(journal.entries), time: new Date().toISOString(), op: edit.op };
    const warnings: ImportIssue[] = [];
    if (edit.op === 'add') {
      entry.index = await nextIndex(dir, journal);
      entry.before = null;
      entry.after = checkRow(dir, meta, edit.row, entry.index, 0, warnings);
    } else {
      if (!EDIT_OPS.includes(edit.op)) throw new EngineError('BAD_INPUT', `unknown edit '${String(edit.op)}'; edits are ${EDIT_OPS.join(', ')}.`, { op: edit.op });
      const before = await readRow(dir, edit.index);
      entry.index = edit.index;
      entry.before = before;
      if (edit.op === 'delete') entry.after = null;
      else if (edit.op === 'relabel') {
        if (typeof edit.label !== 'string' || edit.label.trim() === '') throw new EngineError('BAD_INPUT', `row ${edit.index}: the new label is empty. Fix: give a label, e.g. --relabel ${edit.index} billing.`, { index: edit.index });
        if (!meta.roles.label) {
          throw new EngineError('BAD_INPUT', `${dir} is a ${meta.format} dataset without labels, so row ${edit.index} cannot be relabelled. Fix: use --change to edit its texts.`, { dir, index: edit.index });
        }
        entry.after = checkRow(dir, meta, { ...fieldsOf(before), label: edit.label }, edit.index, before.line, warnings);
      } else {
        const fields = patchFields(before, edit.fields);
        const after = checkRow(dir, meta, fields, edit.index, before.line, warnings);
        // Mined scores and ranks describe each negative against this anchor: with the anchor
        // unchanged, every negative that was there keeps its own (a rejected one takes its
        // entries with it); a new negative has none, so then the lists are dropped.
        const at = (before.negatives ?? []).map((t, k) => [t, k] as const);
        const from = after.negatives?.map((t) => at.find(([u]) => u === t)?.[1]);
        const keep = after.anchor === before.anchor && from !== undefined && from.every((k) => k !== undefined);
        if (keep && before.negativeScores) after.negativeScores = from!.map((k) => before.negativeScores![k!]);
        if (keep && before.negativeRanks) after.negativeRanks = from!.map((k) => before.negativeRanks![k!]);
        entry.after = after;
      }
    }
    await appendJournal(dir, journal, entry);
    return { entry, warnings };
  });
}

/** Undoes the latest edit in effect; returns it. */
export function undoLastEdit(dir: string): Promise<EditEntry> {
  return undoOrRedo(dir, 'undo');
}

/** Redoes the latest undone edit (possible until a new edit is made); returns it. */
export function redoEdit(dir: string): Promise<EditEntry> {
  return undoOrRedo(dir, 'redo');
}

function undoOrRedo(dir: string, op: 'undo' | 'redo'): Promise<EditEntry> {
  return serial(dir, async () => {
    await editableMeta(dir);
    const journal = await readJournal(dir);
    const { active, redoable } = replay(journal);
    const target = (op === 'undo' ? active : redoable).at(-1);
    if (!target) throw new EngineError('BAD_INPUT', `${dir}: nothing to ${op}${op === 'redo' ? ' (redo is possible only right after an undo)' : ''}.`, { dir });
    await appendJournal(dir, journal, { id: nextId(journal.entries), time: new Date().toISOString(), op, target: target.id });
    return target;
  });
}

export async function editHistory(dir: string): Promise<EditHistory> {
  await readDatasetMeta(dir);
  const journal = await readJournal(dir);
  const { active, redoable } = replay(journal);
  const live = new Set(active.map((e) => e.id));
  return {
    entries: journal.entries.map((e) => ({ ...e, undone: e.op !== 'undo' && e.op !== 'redo' && !live.has(e.id) })),
    canUndo: active.length > 0,
    canRedo: redoable.length > 0,
    warnings: journal.warnings,
  };
}

/** The row at a stable index as edits leave it; BAD_INPUT naming the valid range when there is none. */
export async function readRow(dir: string, index: number): Promise<DatasetRow> {
  if (!Number.isInteger(index) || index < 0) throw new EngineError('BAD_INPUT', `row index must be a whole number ≥ 0, got ${index}.`, { index });
  let last = -1;
  for await (const r of readRowsWithEdits(dir, { onWarning: () => {} })) {
    if (r.index === index) return r.row;
    last = r.index;
  }
  if (last < 0) {
    throw new EngineError('BAD_INPUT', `${dir} has no rows at all (none imported, or every one deleted), so there is no row ${index}. Fix: add a row with \`embedsmith dataset edit ${dir} --add '{…}'\`, or undo a delete.`, { dir, index });
  }
  throw new EngineError(
    'BAD_INPUT',
    `${dir} has no row ${index} (indices run 0–${last}; a deleted row keeps its index but cannot be edited). Fix: check the index with \`embedsmith dataset show ${dir} N\`, or undo the delete.`,
    { dir, index },
  );
}

async function editableMeta(dir: string): Promise<DatasetMeta> {
  const meta = await readDatasetMeta(dir);
  if (meta.format === 'retrieval') {
    throw new EngineError('BAD_INPUT', `${dir} is a retrieval set; edits apply to pairs, triplets, labeled and scored datasets. Fix: edit the queries, corpus or qrels files and import them again.`, { dir });
  }
  return meta;
}

const nextId = (entries: EditEntry[]) => (entries.at(-1)?.id ?? 0) + 1;

// Added rows go after every row there is: after rows.jsonl (counted, not taken from
// dataset.json, so a wrong count cannot make an add overwrite a row) and after the adds in
// effect. An undone add's index may be given out again: once a new edit is made, that add
// can no longer be redone.
async function nextIndex(dir: string, journal: Journal): Promise<number> {
  let n = 0;
  for await (const _ of readImportedRows(dir)) n++;
  for (const e of replay(journal).active) n = Math.max(n, e.index! + 1);
  return n;
}

function fieldsOf(row: DatasetRow): RowFields {
  const { anchor, positive, negatives, text, label, score } = row;
  return Object.fromEntries(Object.entries({ anchor, positive, negatives, text, label, score }).filter(([, v]) => v !== undefined));
}

/** The row's fields with `patch` over them; negative_K replaces only the K-th negative (null or "" removes it). */
function patchFields(before: DatasetRow, patch: RowFields): RowFields {
  const out = fieldsOf(before);
  const negatives: unknown[] = [...(before.negatives ?? [])];
  let numbered = false;
  for (const [k, v] of Object.entries(patch)) {
    const m = /^negative_([1-9]\d*)$/.exec(k);
    if (m) {
      negatives[Number(m[1]) - 1] = v;
      numbered = true;
    } else out[k] = v;
  }
  if (numbered && patch.negatives === undefined) out.negatives = negatives.filter((v) => v !== undefined && v !== null && v !== '');
  return out;
}

/** negative_1, negative_2 … folded into `negatives` (the export layout is accepted as input). */
function normalizeNegatives(fields: RowFields): RowFields {
  const out: RowFields = {};
  const numbered: [number, unknown][] = [];
  for (const [k, v] of Object.entries(fields)) {
    const m = /^negative_([1-9]\d*)$/.exec(k);
    if (m) numbered.push([Number(m[1]), v]);
    else out[k] = v;
  }
  if (numbered.length) out.negatives = numbered.sort((a, b) => a[0] - b[0]).map(([, v]) => v).filter((v) => v !== null && v !== '');
  return out;
}

const FIELDS = ['anchor', 'positive', 'negatives', 'text', 'label', 'score'] as const;

/** `fields` as a row of this dataset's format, by the importer's rules; BAD_INPUT saying what is wrong. */
function checkRow(dir: string, meta: DatasetMeta, raw: RowFields, index: number, line: number, warnings: ImportIssue[]): DatasetRow {
  const fields = normalizeNegatives(raw);
  const r = meta.roles;
  const columns = FIELDS.filter((f) => (f === 'negatives' ? r.negative : r[f]) !== undefined);
  const unknown = Object.keys(fields).filter((k) => !(columns as readonly string[]).includes(k));
  if (unknown.length) {
    throw new EngineError('BAD_INPUT', `${dir}: row ${index}: unknown field ${unknown.map((k) => `'${k}'`).join(', ')}; a row of this ${meta.format} dataset has ${columns.join(', ')}.`, { dir, index, fields: unknown });
  }
  const mapping: ColumnMapping = {
    format: meta.format,
    roles: Object.fromEntries(columns.map((c) => (c === 'negatives' ? ['negative', ['negatives']] : [c, c]))),
    ignored: [],
  };
  const issues: ImportIssue[] = [];
  const values = columns.map((c) => (fields[c] === null ? undefined : fields[c]));
  const row = new RowChecker(mapping, [...columns], 'row', 'jsonl').check({ line: index, values }, issues);
  if (!row) {
    const error = issues.find((i) => i.severity === 'error')!;
    const why = error.message.replace(/; row skipped$/, '');
    throw new EngineError('BAD_INPUT', `${dir}: edit refused: ${why}. Fix: give every field a ${meta.format} row needs (${columns.join(', ')}), as non-empty text${r.score ? ' and a numeric score' : ''}.`, {
      dir,
      index,
      code: error.code,
    });
  }
  warnings.push(...issues.filter((i) => i.severity !== 'error'));
  return { ...row, line };
}
