// `embedsmith import`: a file in, a dataset folder out (issue 5 §1–4). Everything is written
// into a hidden temp folder beside the target and renamed into place at the end, so a
// failure (bad input, full disk, Ctrl+C) leaves no half-imported dataset behind.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ENGINE_VERSION } from '../version.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { Utf8DecodeError, latin1Note } from './encoding.js';
import { detectMapping, parseMapSpec } from './mapping.js';
import { openDelimited } from './read-delimited.js';
import { openJsonl } from './read-jsonl.js';
import { openParquet } from './read-parquet.js';
import { kindOf, openText, readHead, type Source } from './source.js';
import { DATASET_SCHEMA_VERSION, type DatasetFormat, type DatasetMeta, type EncodingName, type ImportIssue, type ImportReport } from './types.js';
import { RowChecker } from './validate.js';

export interface ImportOptions {
  format?: 'auto' | DatasetFormat;
  /** `role=column,…` strings as given to --map. */
  map?: string | string[];
  delimiter?: string;
  encoding?: 'auto' | EncodingName;
  /** Dataset name for dataset.json; defaults to the output folder's name. */
  name?: string;
  onProgress?: (rows: number) => void;
}

export interface ImportResult {
  dir: string;
  meta: DatasetMeta;
  report: ImportReport;
}

/** Warnings of one code listed beyond this many are counted only (skipped rows: always all). */
export const WARNINGS_LISTED_PER_CODE = 1000;
const FLUSH_CHARS = 1 << 20;

export async function importDataset(file: string, outDir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const target = resolve(outDir);
  if (opts.delimiter !== undefined && [...opts.delimiter].length !== 1) {
    throw new EngineError('BAD_INPUT', `--delimiter must be one character (use '\\t' for tab), got '${opts.delimiter}'.`, { setting: 'delimiter' });
  }
  const overrides = parseMapSpec(opts.map ?? []);
  const entries = await readdir(target).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  if (entries && entries.length > 0) {
    throw new EngineError('ALREADY_EXISTS', `${target} already exists and is not empty. Fix: pick a new --out folder or delete that one.`, { path: target });
  }
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.import`);
  await mkdir(temp);
  try {
    let result: Omit<ImportResult, 'dir'>;
    try {
      result = await importInto(file, temp, target, opts, overrides, opts.encoding ?? 'auto', []);
    } catch (err) {
      if (!(err instanceof Utf8DecodeError)) throw err;
      if ((opts.encoding ?? 'auto') !== 'auto') {
        throw new EngineError('BAD_INPUT', `${file} line ${err.line} is not valid UTF-8. Fix: re-save the file as UTF-8, or pass --encoding latin1 (or utf16le).`, { file, line: err.line });
      }
      // The sample looked like UTF-8 but a later byte is not: start over as Latin-1.
      await rm(temp, { recursive: true, force: true });
      await mkdir(temp);
      result = await importInto(file, temp, target, opts, overrides, 'latin1', [latin1Note(file, err.line, err.byte)]);
    }
    await rm(target, { recursive: true, force: true }); // an empty folder we checked above
    await rename(temp, target);
    return { dir: target, ...result };
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

async function importInto(
  file: string,
  temp: string,
  target: string,
  opts: ImportOptions,
  overrides: ReturnType<typeof parseMapSpec>,
  encoding: 'auto' | EncodingName,
  notes: ImportIssue[],
): Promise<Omit<ImportResult, 'dir'>> {
  const head = await readHead(file);
  const { size } = await stat(file);
  const kind = kindOf(file, head);
  const hash = createHash('sha256');
  let source: Source;
  if (kind === 'parquet') {
    source = await openParquet(file);
  } else {
    if (size === 0) throw new EngineError('BAD_INPUT', `${file} is empty (0 bytes). Fix: give a file with a header row and at least one data row.`, { file });
    const text = openText(file, head, size, encoding, (b) => hash.update(b));
    const delimiter = opts.delimiter === '\\t' ? '\t' : opts.delimiter;
    source = kind === 'jsonl' ? await openJsonl(file, text) : await openDelimited(file, text, kind, delimiter);
  }
  const mapping = detectMapping(file, source.columns, opts.format ?? 'auto', overrides);
  const checker = new RowChecker(mapping, source.columns, source.unit, source.kind);
  const rowsOut = new Sink(join(temp, 'rows.jsonl'));
  const skippedOut = new Sink(join(temp, 'skipped.jsonl'));
  const listed: ImportIssue[] = [...notes, ...source.notes];
  const counts: Record<string, number> = {};
  const truncated = new Set<string>();
  const issues: ImportIssue[] = [];
  let sourceRows = 0;
  let rows = 0;
  let skipped = 0;
  let warnings = 0;
  const take = (found: ImportIssue[]) => {
    for (const issue of found) {
      const n = (counts[issue.code] = (counts[issue.code] ?? 0) + 1);
      if (issue.severity === 'warning') warnings++;
      if (issue.severity === 'error' || n <= WARNINGS_LISTED_PER_CODE) listed.push(issue);
      else truncated.add(issue.code);
    }
    found.length = 0;
  };
  try {
    for await (const rec of source.records) {
      sourceRows++;
      const row = checker.check(rec, issues);
      if (row) {
        rows++;
        await rowsOut.write(JSON.stringify(row));
      } else {
        skipped++;
        const why = issues.find((i) => i.severity === 'error');
        await skippedOut.write(JSON.stringify({ line: rec.line, code: why?.code, values: rec.values ? Object.fromEntries(source.columns.map((c, k) => [c, rec.values![k]])) : undefined }));
      }
      if (issues.length) take(issues);
      if (sourceRows % 100_000 === 0) opts.onProgress?.(sourceRows);
    }
    take(checker.finish());
    await rowsOut.close();
    await skippedOut.close();
  } catch (err) {
    rowsOut.destroy();
    skippedOut.destroy();
    throw err;
  }
  const unit = source.unit;
  if (rows === 0) {
    const firstErrors = listed.filter((i) => i.severity === 'error').slice(0, 3).map((i) => i.message);
    throw new EngineError(
      'BAD_INPUT',
      sourceRows === 0
        ? `${file} has a header (${source.columns.join(', ')}) but no data ${unit}s. Fix: add rows below the header.`
        : `${file}: none of its ${sourceRows} ${unit}s could be used. First problems: ${firstErrors.join(' | ')}. Fix those ${unit}s and import again.`,
      { file, sourceRows, skipped },
    );
  }
  const report: ImportReport = { schemaVersion: DATASET_SCHEMA_VERSION, issues: listed, counts, truncated: [...truncated] };
  const meta: DatasetMeta = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    name: opts.name ?? basename(target),
    format: mapping.format,
    roles: mapping.roles,
    ignoredColumns: mapping.ignored,
    source: { file: resolve(file), kind: source.kind, bytes: size, sha256: kind === 'parquet' ? '' : hash.digest('hex'), encoding: source.encoding, delimiter: source.delimiter, columns: source.columns },
    counts: { sourceRows, rows, skipped, warnings },
    labels: checker.labels.size && mapping.format === 'labeled' ? Object.fromEntries([...checker.labels].map(([l, v]) => [l, v.count])) : undefined,
    maxNegatives: checker.maxNegatives,
    createdAt: new Date().toISOString(),
    engineVersion: ENGINE_VERSION,
  };
  await writeJsonAtomic(join(temp, 'report.json'), report);
  // dataset.json last: a folder without it is not a dataset (same rule as project.json).
  await writeJsonAtomic(join(temp, 'dataset.json'), meta);
  return { meta, report };
}

/** A JSONL writer that batches lines and waits on the disk (bounded memory, real errors). */
class Sink {
  #stream: WriteStream;
  #buf: string[] = [];
  #chars = 0;
  #error: Error | undefined;
  constructor(readonly path: string) {
    this.#stream = createWriteStream(path, { flags: 'wx' });
    this.#stream.on('error', (e) => (this.#error = e));
  }
  async write(line: string): Promise<void> {
    this.#buf.push(line);
    this.#chars += line.length + 1;
    if (this.#chars >= FLUSH_CHARS) await this.#flush();
  }
  async #flush(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#buf.length === 0) return;
    const data = this.#buf.join('\n') + '\n';
    this.#buf = [];
    this.#chars = 0;
    await new Promise<void>((ok, fail) => this.#stream.write(data, (e) => (e ? fail(e) : ok())));
  }
  async close(): Promise<void> {
    await this.#flush();
    await new Promise<void>((ok, fail) => this.#stream.end((e?: Error | null) => (e ? fail(e) : ok())));
    if (this.#error) throw this.#error;
  }
  destroy(): void {
    this.#stream.destroy();
  }
}
