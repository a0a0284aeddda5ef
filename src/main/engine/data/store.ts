// Reading a dataset folder back (dataset.json + rows.jsonl) and exporting it (DESIGN §6
// `dataset export`): the rows with their roles as columns — anchor, positive, negative_1 …,
// text, label, score — as JSONL or RFC 4180 CSV.
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { EngineError } from '../../../shared/errors.js';
import { parseJsonFile } from '../workspace/json-file.js';
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

export async function* readRows(dir: string): AsyncGenerator<DatasetRow> {
  const lines = createInterface({ input: createReadStream(join(dir, 'rows.jsonl'), 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield JSON.parse(line) as DatasetRow;
}

/** Export columns for a dataset, in DESIGN §6 order. */
export function exportColumns(meta: DatasetMeta): string[] {
  const r = meta.roles;
  const cols: string[] = [];
  if (r.anchor) cols.push('anchor');
  if (r.positive) cols.push('positive');
  for (let k = 1; k <= meta.maxNegatives; k++) cols.push(`negative_${k}`);
  if (r.text) cols.push('text');
  if (r.label) cols.push('label');
  if (r.score) cols.push('score');
  return cols;
}

function record(row: DatasetRow, cols: string[]): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const c of cols) {
    out[c] = c.startsWith('negative_') ? row.negatives?.[Number(c.slice(9)) - 1] : (row[c as keyof DatasetRow] as string | number | undefined);
  }
  return out;
}

export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes the dataset to `outFile` (.jsonl or .csv); returns the number of rows. */
export async function exportDataset(dir: string, outFile: string): Promise<number> {
  const ext = extname(outFile).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.csv') {
    throw new EngineError('BAD_INPUT', `--out ${outFile}: give a .jsonl or .csv file name.`, { setting: 'out' });
  }
  const meta = await readDatasetMeta(dir);
  const cols = exportColumns(meta);
  const out = createWriteStream(outFile);
  const failed = new Promise<never>((_, fail) => out.on('error', fail));
  failed.catch(() => {}); // observed through the races below
  const write = (s: string) => (out.write(s) ? Promise.resolve() : Promise.race([new Promise<void>((ok) => out.once('drain', ok)), failed]));
  if (ext === '.csv') await write(cols.join(',') + '\r\n');
  let n = 0;
  for await (const row of readRows(dir)) {
    const rec = record(row, cols);
    await write(ext === '.csv' ? cols.map((c) => csvField(rec[c])).join(',') + '\r\n' : JSON.stringify(rec) + '\n');
    n++;
  }
  await Promise.race([new Promise<void>((ok) => out.end(ok)), failed]);
  return n;
}
