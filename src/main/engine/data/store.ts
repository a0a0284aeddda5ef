// Reading a dataset folder back (dataset.json + rows.jsonl + the edit journal) and exporting
// it (DESIGN §6 `dataset export`): the rows with their roles as columns — anchor, positive,
// negative_1 …, each mined negative's score and rank, text, label, score — as JSONL or
// RFC 4180 CSV. Everything downstream reads rows through readDatasetRows, so it sees edits.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EngineError } from '../../../shared/errors.js';
import { writeStreamAtomic } from '../workspace/atomic.js';
import { parseJsonFile } from '../workspace/json-file.js';
import { checkOutPath } from '../workspace/out-path.js';
import { withFolderLock } from '../workspace/lock.js';
import { readJournal, replay, rowOverrides } from './journal.js';
import type { SplitFile } from './split.js';
import { DATASET_SCHEMA_VERSION, type DatasetMeta, type DatasetRow } from './types.js';

export async function readDatasetMeta(dir: string): Promise<DatasetMeta> {
  const path = join(dir, 'dataset.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new EngineError('NOT_FOUND', `${dir} is not a dataset folder (no dataset.json). Fix: give a folder made by \`embedsmith import\`.`, { path });
  }
  const meta = parseJsonFile(path, text) as DatasetMeta;
  if (meta?.schemaVersion !== DATASET_SCHEMA_VERSION) {
    throw new EngineError('SCHEMA', `${path} has schema version ${String(meta?.schemaVersion)}; this build reads ${DATASET_SCHEMA_VERSION}. Fix: re-import the source file.`, { path });
  }
  return meta;
}

/**
 * Runs `fn` holding DATASET_DIR/dataset.lock: one writer of a dataset at a time across
 * processes (the app, the CLI, a second CLI). A writer waits a while for the holder to finish.
 */
export async function withDatasetLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await readDatasetMeta(dir); // NOT_FOUND for a folder that is no dataset, before any lock file lands in it
  return withFolderLock(resolve(dir), 'dataset', fn);
}

/** rows.jsonl as imported, without edits: only the journal replay and the importer's own checks want this. */
export async function* readImportedRows(dir: string): AsyncGenerator<DatasetRow> {
  const path = join(dir, 'rows.jsonl');
  const input = createReadStream(path, 'utf8');
  const opened = new Promise<void>((ok, fail) => input.once('open', () => ok()).once('error', fail));
  await opened.catch((e: NodeJS.ErrnoException) => {
    throw new EngineError('NOT_FOUND', `${dir} has no rows.jsonl (${e.code}). Fix: give a dataset folder made by \`embedsmith import\`, or import the source again.`, { path });
  });
  yield* readStoredLines<DatasetRow>(input, path);
}

/**
 * The JSON objects of a JSONL file the engine wrote, one per line; a line that is not one
 * (a full disk cut it, an editor broke it) fails naming the file and line, not as a bare
 * "Unexpected end of JSON input".
 */
export async function* readStoredLines<T>(input: NodeJS.ReadableStream, path: string): AsyncGenerator<T> {
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw damagedLine(path, n, (e as Error).message);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw damagedLine(path, n, 'not a JSON object');
    yield v as T;
  }
}

function damagedLine(path: string, line: number, why: string): EngineError {
  return new EngineError(
    'SCHEMA',
    `${path}:${line} is damaged (${why}); the engine writes one JSON object per line. ` +
      `Fix: import the source file again into a new dataset folder (\`embedsmith import FILE --out DIR\`), or restore ${basename(path)} from a backup. ` +
      'Deleting the line by hand would shift the row indices that edits.jsonl refers to.',
    { file: path, line },
  );
}

export interface IndexedRow {
  /** Stable 0-based index (journal.ts): rows.jsonl order, then added rows; deleted rows leave gaps. */
  index: number;
  row: DatasetRow;
}

export interface ReadRowsOptions {
  /** Only the rows on this side of split.json (rows added after the split count as train). */
  split?: 'train' | 'eval';
  /** Journal warnings (a torn last edit); default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

/** rows.jsonl with the edit journal replayed over it, each row with its stable index. */
export async function* readRowsWithEdits(dir: string, opts: ReadRowsOptions = {}): AsyncGenerator<IndexedRow> {
  const meta = await readDatasetMeta(dir);
  if (meta.format === 'retrieval') {
    throw new EngineError('BAD_INPUT', `${dir} is a retrieval set (queries, corpus, qrels), which has no rows. Fix: read it with readRetrievalSet, or give a pairs, triplets, labeled or scored dataset.`, { dir });
  }
  const evalRows = opts.split ? await readEvalIndices(dir) : undefined;
  const wanted = (i: number) => evalRows === undefined || evalRows.has(i) === (opts.split === 'eval');
  const journal = await readJournal(dir);
  for (const w of journal.warnings) (opts.onWarning ?? ((m: string) => process.emitWarning(m)))(w);
  const overrides = rowOverrides(replay(journal).active);
  let index = 0;
  for await (const row of readImportedRows(dir)) {
    const o = overrides.has(index) ? overrides.get(index) : row;
    if (o && wanted(index)) yield { index, row: o };
    index++;
  }
  const added = [...overrides.keys()].filter((i) => i >= index).sort((a, b) => a - b);
  for (const i of added) {
    const row = overrides.get(i);
    if (row && wanted(i)) yield { index: i, row };
  }
}

/** The rows every reader downstream (mining, training, evaluation, export) should use: edits applied. */
export async function* readDatasetRows(dir: string, opts: ReadRowsOptions = {}): AsyncGenerator<DatasetRow> {
  for await (const { row } of readRowsWithEdits(dir, opts)) yield row;
}

/** The old name of readDatasetRows, kept so callers written before edits existed see edited rows too. */
export const readRows = readDatasetRows;

async function readEvalIndices(dir: string): Promise<Set<number>> {
  const path = join(dir, 'split.json');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new EngineError('NOT_FOUND', `${dir} has no split.json. Fix: split it first with \`embedsmith dataset split ${dir}\`.`, { path });
  });
  const split = parseJsonFile(path, text) as SplitFile;
  if (!Array.isArray(split?.eval)) throw new EngineError('SCHEMA', `${path} has no eval list. Fix: split the dataset again.`, { path });
  return new Set(split.eval);
}

/** What the rows hold beyond dataset.json: edits may add negatives; mining adds scores and ranks. */
export interface ExportShape {
  maxNegatives: number;
  negativeScores: boolean;
  negativeRanks: boolean;
}

/** Export columns for a dataset, in DESIGN §6 order. */
export function exportColumns(meta: DatasetMeta, shape: ExportShape = { maxNegatives: meta.maxNegatives, negativeScores: false, negativeRanks: false }): string[] {
  const r = meta.roles;
  const cols: string[] = [];
  if (r.anchor) cols.push('anchor');
  if (r.positive) cols.push('positive');
  for (let k = 1; k <= shape.maxNegatives; k++) cols.push(`negative_${k}`);
  for (let k = 1; k <= shape.maxNegatives; k++) {
    if (shape.negativeScores) cols.push(`negative_${k}_score`);
    if (shape.negativeRanks) cols.push(`negative_${k}_rank`);
  }
  if (r.text) cols.push('text');
  if (r.label) cols.push('label');
  if (r.score) cols.push('score');
  return cols;
}

const NEGATIVE_COL = /^negative_(\d+)(?:_(score|rank))?$/;

function record(row: DatasetRow, cols: string[]): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const c of cols) {
    const m = NEGATIVE_COL.exec(c);
    if (!m) out[c] = row[c as keyof DatasetRow] as string | number | undefined;
    else {
      const list = m[2] === 'score' ? row.negativeScores : m[2] === 'rank' ? row.negativeRanks : row.negatives;
      out[c] = list?.[Number(m[1]) - 1];
    }
  }
  return out;
}

export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes the dataset (edits applied) to `outFile` (.jsonl or .csv); returns the number of rows. */
export async function exportDataset(dir: string, outFile: string): Promise<number> {
  const ext = extname(outFile).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.csv') {
    throw new EngineError('BAD_INPUT', `--out ${outFile}: give a .jsonl or .csv file name.`, { setting: 'out' });
  }
  await checkOutPath(outFile, 'file', [{ path: dir, what: 'the dataset' }]);
  const meta = await readDatasetMeta(dir);
  // A first pass for the header: edited rows may have more negatives than the import had,
  // and only the rows say whether mining left scores and ranks.
  const shape: ExportShape = { maxNegatives: meta.maxNegatives, negativeScores: false, negativeRanks: false };
  for await (const row of readDatasetRows(dir, { onWarning: () => {} })) {
    shape.maxNegatives = Math.max(shape.maxNegatives, row.negatives?.length ?? 0);
    shape.negativeScores ||= row.negativeScores !== undefined;
    shape.negativeRanks ||= row.negativeRanks !== undefined;
  }
  const cols = exportColumns(meta, shape);
  // Written whole or not at all: a torn export re-imports silently as a shorter dataset.
  return writeStreamAtomic(outFile, async (write) => {
    let buf = ext === '.csv' ? cols.join(',') + '\r\n' : '';
    let n = 0;
    for await (const row of readDatasetRows(dir)) {
      const rec = record(row, cols);
      buf += ext === '.csv' ? cols.map((c) => csvField(rec[c])).join(',') + '\r\n' : JSON.stringify(rec) + '\n';
      n++;
      if (buf.length >= 1 << 20) {
        await write(buf);
        buf = '';
      }
    }
    await write(buf);
    return n;
  });
}
