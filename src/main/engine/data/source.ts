// Opens an input file as a Source: its column names and an async stream of records, each
// tagged with the line (or Parquet row) it came from. The kind comes from the extension, or
// from the content where the extension says nothing (Parquet's PAR1 magic, a leading '{').
// Reading is streamed in 1 MiB chunks, so memory stays bounded by the largest record; a
// preview (stopAfter) reads 64 KiB pieces without read-ahead, so it can stop early.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { SAMPLE_BYTES, StreamDecoder, detectEncoding, type EncodingChoice } from './encoding.js';
import type { EncodingName, ImportIssue, SourceInfo } from './types.js';
import { ioError } from '../workspace/fs-errors.js';

export interface SourceRecord {
  line: number;
  /** Values in column order (strings from CSV; any JSON value from JSONL/Parquet). */
  values?: unknown[];
  /** Set when the record could not be read at all (bad JSON …): the row is skipped. */
  problem?: { code: string; message: string };
  /** CSV: a quote appeared inside an unquoted field and was kept as text. */
  strayQuote?: boolean;
}

export interface Source {
  kind: SourceInfo['kind'];
  columns: string[];
  records: AsyncIterable<SourceRecord>;
  /** 'line' for text files, 'row' for Parquet: how messages name a position. */
  unit: 'line' | 'row';
  encoding?: EncodingName;
  delimiter?: string;
  notes: ImportIssue[];
  /**
   * Releases the file. Needed only when stopping before the records run out or without
   * reading them (a preview, a mapping error); harmless after they did.
   */
  close: () => Promise<void>;
}

export interface OpenOptions {
  encoding?: 'auto' | EncodingName;
  delimiter?: string;
  /**
   * The caller stops after about this many records (a preview): read in small pieces with no
   * read-ahead, so a huge file is not read to the end. The records are the same either way.
   */
  stopAfter?: number;
}

/** Bytes per read: the import's, and a preview's (which stops after a few records). */
export const CHUNK_BYTES = 1 << 20;
export const PREVIEW_CHUNK_BYTES = 64 * 1024;

export function kindOf(file: string, head: Uint8Array): SourceInfo['kind'] {
  const ext = extname(file).toLowerCase();
  if (ext === '.parquet' || (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31)) return 'parquet';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  return 'csv';
}

export async function readHead(file: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(file, 'r');
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SAMPLE_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EngineError('NOT_FOUND', `${file} does not exist. Fix: check the path.`, { file });
    if (code === 'EISDIR') throw new EngineError('BAD_INPUT', `${file} is a folder; give a CSV, TSV, JSONL or Parquet file.`, { file });
    throw ioError(e, file, 'read');
  } finally {
    await fh?.close();
  }
}

export interface TextStream {
  choice: EncodingChoice;
  /**
   * Decoded text, one chunk per read of `chunkBytes`. Returning early (break, return()) closes
   * the file; readers that pull with next() must pass their own return() on to it.
   */
  chunks: AsyncIterable<string>;
  chunkBytes: number;
  /** Resolves once the file is closed again (at once when it was never opened). */
  closed: () => Promise<void>;
}

/** The file as decoded text chunks; `onBytes` sees every raw chunk (for the checksum). */
export function openText(
  file: string,
  head: Uint8Array,
  fileBytes: number,
  requested: 'auto' | EncodingName,
  onBytes: (b: Buffer) => void,
  chunkBytes = CHUNK_BYTES,
): TextStream {
  const choice = detectEncoding(head, file, requested, head.length >= fileBytes);
  let closed = Promise.resolve();
  async function* chunks(): AsyncGenerator<string> {
    const decoder = new StreamDecoder(choice.encoding);
    const stream = createReadStream(file, { highWaterMark: chunkBytes });
    closed = new Promise((done) => stream.once('close', () => done()));
    for await (const raw of stream) {
      onBytes(raw as Buffer);
      const text = decoder.push(raw as Buffer);
      if (text) yield text;
    }
    const tail = decoder.push(new Uint8Array(0), true);
    if (tail) yield tail;
  }
  return { choice, chunks: chunks(), chunkBytes, closed: () => closed };
}

/** Header names made usable: trimmed, blanks named column_N, duplicates refused. */
export function checkColumns(file: string, raw: unknown[], unit: string): string[] {
  const names = raw.map((v, i) => {
    const s = typeof v === 'string' ? v.trim() : String(v ?? '').trim();
    return s === '' ? `column_${i + 1}` : s;
  });
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new EngineError(
        'BAD_INPUT',
        `${file} ${unit} 1: the column name '${n}' appears twice (columns ${prev + 1} and ${i + 1}); the header is ${names.join(', ')}. ` +
          'Fix: rename one of them in the header row so each column has its own name.',
        { file, line: 1, column: n },
      );
    }
    seen.set(n, i);
  });
  return names;
}
