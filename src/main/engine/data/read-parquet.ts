// Parquet through hyparquet, one row group (at most ROWS_PER_READ rows) at a time so memory
// stays bounded. Positions are 1-based row numbers; top-level columns only (a list column
// such as `negatives: list<string>` arrives as an array).
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { EngineError } from '../../../shared/errors.js';
import { checkColumns, type Source, type SourceRecord } from './source.js';

const ROWS_PER_READ = 50_000;

/**
 * `stopAfter`: the caller reads about this many rows (a preview), so decode no more at a time.
 * `onBytes` counts the bytes read from the file.
 */
export async function openParquet(file: string, opts: { stopAfter?: number; onBytes?: (n: number) => void } = {}): Promise<Source> {
  let buffer: AsyncBuffer;
  let metadata: FileMetaData;
  const perRead = Math.min(ROWS_PER_READ, opts.stopAfter ?? ROWS_PER_READ);
  try {
    const whole = await asyncBufferFromFile(file);
    buffer = {
      byteLength: whole.byteLength,
      slice: (start, end) => (opts.onBytes?.((end ?? whole.byteLength) - start), whole.slice(start, end)),
    };
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new EngineError('BAD_INPUT', `${file} is not a readable Parquet file (${(e as Error).message}). Fix: re-export it, or give CSV/JSONL.`, { file });
  }
  const tree = parquetSchema(metadata);
  const columns = checkColumns(file, tree.children.map((c) => c.element.name), 'row');
  const total = Number(metadata.num_rows);
  const file_ = buffer;
  async function* records(): AsyncGenerator<SourceRecord> {
    for (let start = 0; start < total; start += perRead) {
      const end = Math.min(total, start + perRead);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: file_, metadata, rowStart: start, rowEnd: end });
      } catch (e) {
        throw new EngineError('BAD_INPUT', `${file} rows ${start + 1}–${end} cannot be decoded (${(e as Error).message}). Fix: re-export the file.`, { file, row: start + 1 });
      }
      for (let i = 0; i < rows.length; i++) yield { line: start + i + 1, values: columns.map((c) => rows[i][c]) };
    }
  }
  // Each read opens and closes the file itself: nothing stays open between them.
  return { kind: 'parquet', columns, records: records(), unit: 'row', notes: [], close: async () => {} };
}
