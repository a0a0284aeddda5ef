// Text decoding for imported files: pick the encoding from a sample of the first bytes (BOM,
// else the NUL pattern UTF-16 leaves in mostly-ASCII text, else UTF-8 if the sample is valid,
// else Latin-1 with a warning), reject files that are plainly not text, and decode the rest
// as a stream. UTF-8 that turns invalid after the sample throws Utf8DecodeError so the
// importer can start over as Latin-1 (auto) or name the line (when UTF-8 was asked for).
import { TextDecoder } from 'node:util';
import { EngineError } from '../../../shared/errors.js';
import type { EncodingName, ImportIssue } from './types.js';

export const SAMPLE_BYTES = 64 * 1024;

export const ENCODINGS = ['utf8', 'utf16le', 'utf16be', 'latin1'] as const satisfies readonly EncodingName[];

export interface EncodingChoice {
  encoding: EncodingName;
  /** Why, for the report (BOM seen, pattern detected, fallback taken). */
  note?: ImportIssue;
}

// Signatures of files people export by mistake instead of CSV: say what it is and what to do.
const MAGIC: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an .xlsx/.ods spreadsheet?): export the sheet as CSV first'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document: export the table as CSV first'],
  [[0x1f, 0x8b], 'gzip-compressed: decompress it first (gunzip)'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Excel/Office file: export the sheet as CSV first'],
];

export function detectEncoding(sample: Uint8Array, file: string, requested: 'auto' | EncodingName, atEof: boolean): EncodingChoice {
  const b = sample;
  const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 'utf8' : b[0] === 0xff && b[1] === 0xfe ? 'utf16le' : b[0] === 0xfe && b[1] === 0xff ? 'utf16be' : undefined;
  if (requested !== 'auto') return { encoding: requested === 'utf16le' && bom === 'utf16be' ? 'utf16be' : requested };
  if (bom) return { encoding: bom };
  for (const [sig, what] of MAGIC) {
    if (sig.every((v, i) => b[i] === v)) throw new EngineError('BAD_INPUT', `${file} is not a text table: it looks like ${what}.`, { file });
  }
  let evenNul = 0;
  let oddNul = 0;
  let control = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    } else if (c < 9 || (c > 13 && c < 32 && c !== 27)) control++;
  }
  const half = Math.max(1, b.length / 2);
  // Mostly-ASCII UTF-16 has a NUL in every other byte: odd positions for LE, even for BE.
  if (oddNul / half > 0.3 && evenNul / half < 0.05) return { encoding: 'utf16le', note: info(`${file} has no byte-order mark; read as UTF-16 LE (every other byte is NUL)`) };
  if (evenNul / half > 0.3 && oddNul / half < 0.05) return { encoding: 'utf16be', note: info(`${file} has no byte-order mark; read as UTF-16 BE (every other byte is NUL)`) };
  const nul = evenNul + oddNul;
  // A few NULs in text are damage the validator reports per row; many, or many other control
  // bytes, mean the file is not text at all.
  if ((nul > 8 && nul / b.length > 0.01) || (b.length >= 64 && control / b.length > 0.05)) {
    const first = b.indexOf(0);
    throw new EngineError(
      'BAD_INPUT',
      `${file} looks binary, not text: ${nul} NUL bytes and ${control} other control bytes in its first ${b.length} bytes (first NUL at byte ${first}). ` +
        'Fix: give a CSV, TSV, JSONL or Parquet file; if it is text in another encoding, re-save it as UTF-8.',
      { file, nulBytes: nul, firstNulByte: first },
    );
  }
  const bad = firstInvalidUtf8(b, atEof);
  if (bad < 0) return { encoding: 'utf8' };
  return { encoding: 'latin1', note: latin1Note(file, lineAt(b, bad), b[bad]) };
}

export function latin1Note(file: string, line: number, byte: number | undefined): ImportIssue {
  const hex = byte === undefined ? '' : ` 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return {
    line,
    code: 'ENCODING_FALLBACK',
    severity: 'warning',
    message: `${file} is not valid UTF-8 (byte${hex} on line ${line}); read as Latin-1 (ISO-8859-1). If accented letters look wrong, re-save the file as UTF-8 or pass --encoding.`,
  };
}

function info(message: string): ImportIssue {
  return { line: null, code: 'ENCODING_DETECTED', severity: 'info', message };
}

function lineAt(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 10) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8, or -1. A sequence cut by the sample's end is fine unless atEof. */
export function firstInvalidUtf8(b: Uint8Array, atEof: boolean): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return atEof ? i : -1;
      if ((b[i + k] & 0xc0) !== 0x80) return i;
    }
    // Overlongs and surrogates: the second byte's range is narrower after E0, ED, F0, F4.
    const s = b[i + 1];
    if ((c === 0xe0 && s < 0xa0) || (c === 0xed && s > 0x9f) || (c === 0xf0 && s < 0x90) || (c === 0xf4 && s > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

/** UTF-8 was asked for and a byte is not: the line, and what to do. */
export function notUtf8Error(file: string, err: Utf8DecodeError): EngineError {
  return new EngineError('BAD_INPUT', `${file} line ${err.line} is not valid UTF-8. Fix: re-save the file as UTF-8, or pass --encoding latin1 (or utf16le).`, { file, line: err.line });
}

/**
 * Runs `read` with the asked encoding; under 'auto', when a byte past the encoding sample turns
 * out not to be UTF-8, runs it again as Latin-1 with a note saying so (after `beforeRetry`,
 * which undoes what the first try wrote). A forced encoding that fails is a BAD_INPUT.
 */
export async function withLatin1Fallback<T>(
  file: string,
  encoding: 'auto' | EncodingName,
  read: (encoding: 'auto' | EncodingName, notes: ImportIssue[]) => Promise<T>,
  beforeRetry: () => Promise<void> = async () => {},
): Promise<T> {
  try {
    return await read(encoding, []);
  } catch (err) {
    if (!(err instanceof Utf8DecodeError)) throw err;
    if (encoding !== 'auto') throw notUtf8Error(file, err);
    await beforeRetry();
    return read('latin1', [latin1Note(file, err.line, err.byte)]);
  }
}

/** Raised mid-stream when bytes stop being UTF-8; `line` counts from 1. */
export class Utf8DecodeError extends Error {
  constructor(
    readonly line: number,
    readonly byte: number | undefined,
  ) {
    super(`invalid UTF-8 on line ${line}`);
  }
}

/** Stream decoder: bytes in, text out; strips a BOM. */
export class StreamDecoder {
  #decoder: TextDecoder | undefined;
  #latin1: boolean;
  #lines = 1;
  #first = true;
  constructor(readonly encoding: EncodingName) {
    this.#latin1 = encoding === 'latin1';
    if (!this.#latin1) this.#decoder = new TextDecoder(encoding === 'utf8' ? 'utf-8' : encoding === 'utf16le' ? 'utf-16le' : 'utf-16be', { fatal: encoding === 'utf8' });
  }

  push(chunk: Uint8Array, last = false): string {
    let text: string;
    if (this.#latin1) {
      text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    } else {
      try {
        text = this.#decoder!.decode(chunk, { stream: !last });
      } catch {
        const bad = firstInvalidUtf8(chunk, last);
        let line = this.#lines;
        for (let i = 0; i < Math.max(0, bad); i++) if (chunk[i] === 10) line++;
        throw new Utf8DecodeError(line, bad >= 0 ? chunk[bad] : undefined);
      }
    }
    if (this.#first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length > 0) this.#first = false;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#lines++;
    return text;
  }
}
