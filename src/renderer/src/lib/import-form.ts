// The import form's rules: what the user typed → problems to show beside each field (checked
// as they type, with the fix), and → the requests the engine gets (previewImport while typing,
// importDataset on submit). The engine checks everything again; these catch what can be
// caught before a job starts.
import type { ImportPreview, ImportPreviewRequest, ImportRequest } from '../../../shared/api.js';
import { REQUIRED_ROLES, ROLES, ROW_FORMATS, type Role, type RowFormat } from '../../../shared/dataset-formats.js';
import { folderNameFor, joinPath } from './paths.js';

// The formats, roles and the roles each format needs are the shared vocabulary (the engine's own).
export { REQUIRED_ROLES, ROLES, type Role };
/** The formats one file's columns can be imported as (a retrieval set has its own form). */
export const FORMATS = ROW_FORMATS;
export type ImportFormat = RowFormat;

export interface ImportForm {
  /** The file's full path on the engine's computer. */
  file: string;
  /** The dataset's folder name under PROJECT/datasets. */
  name: string;
  format: 'auto' | ImportFormat;
  /** Role → column name as typed ('' = let the engine find it); negative takes a comma list. */
  map: Partial<Record<Role, string>>;
  /** '' = sniffed by the engine; '\t' or 'tab' for a tab. */
  delimiter: string;
  encoding: NonNullable<ImportRequest['encoding']>;
}

export interface ImportContext {
  projectDir: string;
  /** Names of the project's datasets (a new one may not reuse them). */
  existing: string[];
  /** The columns of the previewed file, when the engine previewed it. */
  columns: string[] | null;
  /** Roles the engine's preview found a column for. */
  guessed?: Partial<Record<Role, string[]>>;
}

/** A preview's roles in the form's terms: role → its column(s). */
export function rolesFound(roles: ImportPreview['roles']): Partial<Record<Role, string[]>> {
  const out: Partial<Record<Role, string[]>> = {};
  for (const role of ROLES) {
    const c = roles[role];
    if (c !== undefined) out[role] = Array.isArray(c) ? c : [c];
  }
  return out;
}

export type ImportField = 'file' | 'name' | 'delimiter' | Role;
export type ImportProblems = Partial<Record<ImportField, string>>;

export const emptyForm = (): ImportForm => ({ file: '', name: '', format: 'auto', map: {}, delimiter: '', encoding: 'auto' });

/** Which roles the mapping shows for a format; a label next to pairs is kept for stratified splits. */
export function rolesFor(format: ImportForm['format']): Role[] {
  if (format === 'auto') return [...ROLES];
  return format === 'labeled' ? [...REQUIRED_ROLES.labeled] : [...REQUIRED_ROLES[format], 'label'];
}

/** POSIX (/…), Windows drive (C:\… or C:/…) or UNC (\\server\…) paths. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** The folder name a file suggests: "~/data/Support Tickets.csv" → "support-tickets". */
export function datasetNameFor(file: string): string {
  const base = file.trim().split(/[\\/]/).pop() ?? '';
  return base ? folderNameFor(base.replace(/\.[^.]+$/, '')) : '';
}

function delimiterOf(typed: string): string | undefined | null {
  if (typed === '') return undefined;
  if (typed === '\\t' || typed.toLowerCase() === 'tab' || typed === '\t') return '\t';
  return [...typed].length === 1 ? typed : null;
}

const columnsOf = (typed: string | undefined): string[] =>
  (typed ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);

export function validateImport(form: ImportForm, ctx: ImportContext): ImportProblems {
  const problems: ImportProblems = {};
  const file = form.file.trim();
  if (file && !isAbsolutePath(file)) {
    problems.file = `give the full path, e.g. ${joinPath(ctx.projectDir, 'pairs.csv')}: the engine does not know which folder "${file}" is relative to`;
  } else if (/[\\/]$/.test(file)) {
    problems.file = 'that is a folder; give the CSV, TSV, JSONL or Parquet file inside it';
  } else if (/\.xlsx?$/i.test(file)) {
    problems.file = 'Excel workbooks cannot be read; save the sheet as CSV (File › Save as › CSV UTF-8) and give that file';
  }
  const name = form.name.trim();
  if (name.startsWith('.')) problems.name = 'a name starting with a dot would be hidden from the dataset list; drop the dot';
  else if (/[\\/]/.test(name)) problems.name = `a name, not a path: datasets go into ${joinPath(ctx.projectDir, 'datasets')}`;
  else if (ctx.existing.includes(name)) problems.name = `the project has a dataset named ${name} already; pick another name`;
  if (delimiterOf(form.delimiter) === null) problems.delimiter = `one character, or \\t for a tab (got "${form.delimiter}")`;

  for (const role of rolesFor(form.format)) {
    const typed = columnsOf(form.map[role]);
    const unknown = ctx.columns ? typed.filter((c) => !ctx.columns!.includes(c)) : [];
    if (unknown.length) {
      problems[role] = `column "${unknown[0]}" is not in the file; its columns are ${ctx.columns!.join(', ')}`;
    } else if (form.format !== 'auto' && ctx.columns && REQUIRED_ROLES[form.format].includes(role) && !typed.length && !ctx.guessed?.[role]) {
      problems[role] = `the ${form.format} format needs a ${role} column and none is named like one; pick one of ${ctx.columns.join(', ')}`;
    }
  }
  return problems;
}

/** The engine's --map: 'role=column,…', negatives one entry per column, in order. */
export function mapSpec(form: ImportForm): string | undefined {
  const parts = rolesFor(form.format).flatMap((role) => columnsOf(form.map[role]).map((c) => `${role}=${c}`));
  return parts.length ? parts.join(',') : undefined;
}

/** True when the form can be submitted: a file and a name, and no problem. */
export function canImport(form: ImportForm, problems: ImportProblems): boolean {
  return form.file.trim() !== '' && form.name.trim() !== '' && Object.keys(problems).length === 0;
}

/** The import's reading options: what previewImport gets, so the preview reads as the import will. */
export function previewRequest(form: ImportForm): ImportPreviewRequest {
  const request: ImportPreviewRequest = { file: form.file.trim(), format: form.format, encoding: form.encoding };
  const map = mapSpec(form);
  if (map) request.map = map;
  const delimiter = delimiterOf(form.delimiter);
  if (delimiter) request.delimiter = delimiter;
  return request;
}

/** True when the engine can be asked for a preview: a full path, and a usable delimiter. */
export function canPreview(form: ImportForm, problems: ImportProblems): boolean {
  return form.file.trim() !== '' && !problems.file && !problems.delimiter;
}

export function importRequest(form: ImportForm, ctx: Pick<ImportContext, 'projectDir'>): ImportRequest {
  return { ...previewRequest(form), out: joinPath(joinPath(ctx.projectDir, 'datasets'), form.name.trim()) };
}
