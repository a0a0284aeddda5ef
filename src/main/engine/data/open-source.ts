// Any supported input file as a Source (source.ts): the kind from its name or content, the
// text decoded in the chosen encoding, the checksum taken as the bytes stream past.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { openDelimited } from './read-delimited.js';
import { openJsonl } from './read-jsonl.js';
import { openParquet } from './read-parquet.js';
import { kindOf, openText, readHead, type Source } from './source.js';
import type { EncodingName, SourceInfo } from './types.js';

export interface OpenedSource {
  source: Source;
  bytes: number;
  /** sha256 of the bytes read so far (complete once the records are exhausted); '' for Parquet. */
  sha256: () => string;
  /** The source as dataset.json records it. */
  info: () => SourceInfo;
}

export async function openSourceFile(file: string, opts: { encoding?: 'auto' | EncodingName; delimiter?: string } = {}): Promise<OpenedSource> {
  const head = await readHead(file);
  const { size } = await stat(file);
  const kind = kindOf(file, head);
  const hash = createHash('sha256');
  let source: Source;
  if (kind === 'parquet') {
    source = await openParquet(file);
  } else {
    if (size === 0) throw new EngineError('BAD_INPUT', `${file} is empty (0 bytes). Fix: give a file with a header row and at least one data row.`, { file });
    const text = openText(file, head, size, opts.encoding ?? 'auto', (b) => hash.update(b));
    const delimiter = opts.delimiter === '\\t' ? '\t' : opts.delimiter;
    source = kind === 'jsonl' ? await openJsonl(file, text) : await openDelimited(file, text, kind, delimiter);
  }
  let digest: string | undefined;
  const sha256 = () => (kind === 'parquet' ? '' : (digest ??= hash.digest('hex')));
  return {
    source,
    bytes: size,
    sha256,
    info: () => ({ file: resolve(file), kind: source.kind, bytes: size, sha256: sha256(), encoding: source.encoding, delimiter: source.delimiter, columns: source.columns }),
  };
}
