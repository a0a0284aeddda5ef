// Any supported input file as a Source (source.ts): the kind from its name or content, the
// text decoded in the chosen encoding, the checksum taken as the bytes stream past.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { openDelimited } from './read-delimited.js';
import { openJsonl } from './read-jsonl.js';
import { openParquet } from './read-parquet.js';
import { CHUNK_BYTES, PREVIEW_CHUNK_BYTES, kindOf, openText, readHead, type OpenOptions, type Source } from './source.js';
import type { SourceInfo } from './types.js';

export interface OpenedSource {
  source: Source;
  bytes: number;
  /** Bytes read from the file so far (the encoding sample included). */
  bytesRead: () => number;
  /** sha256 of the bytes read so far (complete once the records are exhausted); '' for Parquet. */
  sha256: () => string;
  /** The source as dataset.json records it. */
  info: () => SourceInfo;
}

export async function openSourceFile(file: string, opts: OpenOptions = {}): Promise<OpenedSource> {
  const head = await readHead(file);
  const { size } = await stat(file);
  const kind = kindOf(file, head);
  const hash = createHash('sha256');
  let read = 0;
  let source: Source;
  if (kind === 'parquet') {
    source = await openParquet(file, { stopAfter: opts.stopAfter, onBytes: (n) => (read += n) });
  } else {
    if (size === 0) throw new EngineError('BAD_INPUT', `${file} is empty (0 bytes). Fix: give a file with a header row and at least one data row.`, { file });
    const preview = opts.stopAfter !== undefined;
    const onBytes = (b: Buffer) => {
      read += b.length;
      hash.update(b);
    };
    const text = openText(file, head, size, opts.encoding ?? 'auto', onBytes, preview ? PREVIEW_CHUNK_BYTES : CHUNK_BYTES);
    const delimiter = opts.delimiter === '\\t' ? '\t' : opts.delimiter;
    source = kind === 'jsonl' ? await openJsonl(file, text) : await openDelimited(file, text, kind, delimiter, preview ? 1 : undefined);
  }
  let digest: string | undefined;
  const sha256 = () => (kind === 'parquet' ? '' : (digest ??= hash.digest('hex')));
  return {
    source,
    bytes: size,
    bytesRead: () => Math.max(read, head.length),
    sha256,
    info: () => ({ file: resolve(file), kind: source.kind, bytes: size, sha256: sha256(), encoding: source.encoding, delimiter: source.delimiter, columns: source.columns }),
  };
}
