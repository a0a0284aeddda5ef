// `embedsmith import`: a file in, a dataset folder out (issue 5 §1–4), written through
// write-folder.ts so a failure leaves no half-imported dataset behind.
import { basename, join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ENGINE_VERSION } from '../version.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { ENCODINGS, withLatin1Fallback } from './encoding.js';
import { detectMapping, parseMapSpec } from './mapping.js';
import { openSourceFile } from './open-source.js';
import { checkTokenLengths, type LengthCheck } from './token-lengths.js';
import { IssueLog } from './issue-log.js';
import { DATASET_SCHEMA_VERSION, type DatasetFormat, type DatasetMeta, type EncodingName, type ImportIssue, type ImportReport } from './types.js';
import { RowChecker } from './validate.js';
import { Sink, resetFolder, writeDatasetFolder } from './write-folder.js';

export interface ImportOptions {
  format?: 'auto' | DatasetFormat;
  /** `role=column,…` strings as given to --map. */
  map?: string | string[];
  delimiter?: string;
  encoding?: 'auto' | EncodingName;
  /** Dataset name for dataset.json; defaults to the output folder's name. */
  name?: string;
  onProgress?: (rows: number) => void;
  /** Count each text's tokens under a model's tokenizer; texts over its max length become TOO_MANY_TOKENS warnings. */
  lengthCheck?: LengthCheck;
}

export interface ImportResult {
  dir: string;
  meta: DatasetMeta;
  report: ImportReport;
}

export { WARNINGS_LISTED_PER_CODE } from './issue-log.js';

/** Refuses a delimiter or encoding no file can be read with (a preview checks the same). */
export function checkImportOptions(opts: Pick<ImportOptions, 'delimiter' | 'encoding'>): void {
  if (opts.delimiter !== undefined && [...opts.delimiter].length !== 1) {
    throw new EngineError('BAD_INPUT', `--delimiter must be one character (use '\\t' for tab), got '${opts.delimiter}'.`, { setting: 'delimiter' });
  }
  const encoding = opts.encoding ?? 'auto';
  if (encoding !== 'auto' && !(ENCODINGS as readonly string[]).includes(encoding)) {
    throw new EngineError('BAD_INPUT', `--encoding '${encoding}' is not one of auto, ${ENCODINGS.join(', ')}. Fix: pick one of those (auto reads UTF-8, else Latin-1).`, { setting: 'encoding' });
  }
}

export async function importDataset(file: string, outDir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  checkImportOptions(opts);
  const overrides = parseMapSpec(opts.map ?? []);
  const { dir, result } = await writeDatasetFolder(outDir, async (temp, target) => {
    let result = await withLatin1Fallback(
      file,
      opts.encoding ?? 'auto',
      (encoding, notes) => importInto(file, temp, target, opts, overrides, encoding, notes),
      () => resetFolder(temp), // the first try's rows are gone before the second writes
    );
    // Before the rename, so the folder appears with its complete report or not at all.
    if (opts.lengthCheck) {
      const { tokenizer, maxLength, template } = opts.lengthCheck;
      const checked = await checkTokenLengths(temp, tokenizer, maxLength, template);
      result = { meta: checked.meta, report: checked.report };
    }
    return result;
  });
  return { dir, ...result };
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
  const opened = await openSourceFile(file, { encoding, delimiter: opts.delimiter });
  const source = opened.source;
  let mapping: ReturnType<typeof detectMapping>;
  try {
    mapping = detectMapping(file, source.columns, opts.format ?? 'auto', overrides);
  } catch (err) {
    await source.close(); // the records are never read: let the file go
    throw err;
  }
  const checker = new RowChecker(mapping, source.columns, source.unit, source.kind);
  const rowsOut = new Sink(join(temp, 'rows.jsonl'));
  const skippedOut = new Sink(join(temp, 'skipped.jsonl'));
  const log = new IssueLog([...notes, ...source.notes]);
  const issues: ImportIssue[] = [];
  let sourceRows = 0;
  let rows = 0;
  let skipped = 0;
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
      if (issues.length) log.take(issues);
      if (sourceRows % 100_000 === 0) opts.onProgress?.(sourceRows);
    }
    log.take(checker.finish());
    await rowsOut.close();
    await skippedOut.close();
  } catch (err) {
    rowsOut.destroy();
    skippedOut.destroy();
    throw err;
  }
  const unit = source.unit;
  if (rows === 0) {
    const firstErrors = log.firstErrors();
    throw new EngineError(
      'BAD_INPUT',
      sourceRows === 0
        ? `${file} has a header (${source.columns.join(', ')}) but no data ${unit}s. Fix: add rows below the header.`
        : `${file}: none of its ${sourceRows} ${unit}s could be used. First problems: ${firstErrors.join(' | ')}. Fix those ${unit}s and import again.`,
      { file, sourceRows, skipped },
    );
  }
  const report = log.report();
  const meta: DatasetMeta = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    name: opts.name ?? basename(target),
    format: mapping.format,
    roles: mapping.roles,
    ignoredColumns: mapping.ignored,
    source: opened.info(),
    counts: { sourceRows, rows, skipped, warnings: log.warnings },
    // Pairs may carry a label column too: its counts let the app filter rows by label (issue 15 item 10).
    labels: checker.labels.size ? Object.fromEntries([...checker.labels].map(([l, v]) => [l, v.count])) : undefined,
    maxNegatives: checker.maxNegatives,
    createdAt: new Date().toISOString(),
    engineVersion: ENGINE_VERSION,
  };
  await writeJsonAtomic(join(temp, 'report.json'), report);
  // dataset.json last: a folder without it is not a dataset (same rule as project.json).
  await writeJsonAtomic(join(temp, 'dataset.json'), meta);
  return { meta, report };
}
