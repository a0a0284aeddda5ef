// CSV and TSV through csv-parse (RFC 4180: doubled quotes, delimiters and newlines inside
// quotes). Choices made here, and why:
// - record delimiters \r\n, \n and \r all end a record, so a file with mixed line endings
//   (spreadsheet rows appended by another tool) is not read as one giant field;
// - relax_quotes keeps a stray quote inside an unquoted field as text, flagged, instead of
//   failing the whole file; a quote that never closes is fatal (it would swallow the rest);
// - a quoted field whose lines each look like a row of their own (the header's number of
//   delimiters, every line but the one where it closes) is a stray opening quote that swallowed
//   those rows: the record is skipped with both line numbers, never imported as one huge text;
// - relax_column_count lets ragged rows through so the validator can skip and list them;
// - the delimiter is sniffed from the first lines unless given, from the same text whether the
//   file is read in the import's 1 MiB pieces or a preview's smaller ones.
import { Readable, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { EngineError } from '../../../shared/errors.js';
import { CHUNK_BYTES, checkColumns, type Source, type SourceRecord, type TextStream } from './source.js';

const CANDIDATES = [',', '\t', ';', '|'];
/** The sniffer reads this many lines, within the import's first read (CHUNK_BYTES). */
const SNIFF_LINES = 50;

/** The delimiter whose count is the same, and non-zero, on the most of the first lines. */
export function sniffDelimiter(sample: string, preferTab: boolean): string {
  return sniff(sample, preferTab).delimiter;
}

/** The delimiter, and how many complete lines of `sample` decided it (at most SNIFF_LINES). */
function sniff(sample: string, preferTab: boolean): { delimiter: string; lines: number } {
  const counts = new Map<string, number[]>(CANDIDATES.map((c) => [c, []]));
  let quoted = false;
  let line = new Map<string, number>();
  let lines = 0;
  for (let i = 0; i < sample.length && lines < SNIFF_LINES; i++) {
    const ch = sample[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) {
      for (const c of CANDIDATES) counts.get(c)!.push(line.get(c) ?? 0);
      line = new Map();
      lines++;
      if (ch === '\r' && sample[i + 1] === '\n') i++;
    } else if (!quoted && CANDIDATES.includes(ch)) line.set(ch, (line.get(ch) ?? 0) + 1);
  }
  if (line.size > 0) for (const c of CANDIDATES) counts.get(c)!.push(line.get(c) ?? 0);
  let best = preferTab ? '\t' : ',';
  let bestScore = 0;
  for (const c of preferTab ? ['\t', ',', ';', '|'] : CANDIDATES) {
    const per = counts.get(c)!;
    if (per.length === 0 || per[0] === 0) continue; // the header must contain it
    const score = per.filter((n) => n === per[0]).length;
    if (score > bestScore) [best, bestScore] = [c, score];
  }
  return { delimiter: best, lines };
}

/** [line breaks, of which \r\n pairs] in a field's text. */
function newlines(s: string): [number, number] {
  if (s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return [0, 0];
  let n = 0;
  let crlf = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      if (s.charCodeAt(i + 1) === 10) crlf++;
      else n++;
    }
  }
  return [n, crlf];
}

/**
 * `readAhead`: decoded chunks buffered ahead of the parser (Readable.from's default 16 for the
 * import; a preview, which stops after a few records, reads ahead 1 so it leaves the rest unread).
 */
export async function openDelimited(file: string, text: TextStream, kind: 'csv' | 'tsv', delimiter?: string, readAhead = 16): Promise<Source> {
  const it = text.chunks[Symbol.asyncIterator]();
  // A preview's smaller reads are joined until they hold what the import's first read would
  // have given the sniffer, so both pick the same delimiter.
  let head = '';
  for (let reads = 1; ; reads++) {
    const r = await it.next();
    if (r.done) break;
    head += r.value;
    if (delimiter !== undefined || reads * text.chunkBytes >= CHUNK_BYTES || sniff(head, kind === 'tsv').lines >= SNIFF_LINES) break;
  }
  if (head.trim() === '') {
    await it.return?.(undefined);
    throw new EngineError('BAD_INPUT', `${file} is empty: there is no header row. Fix: give a file whose first line names the columns, e.g. anchor,positive.`, { file, line: 1 });
  }
  const delim = delimiter ?? sniffDelimiter(head, kind === 'tsv');
  async function* all(): AsyncGenerator<string> {
    try {
      yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    } finally {
      await it.return?.(undefined); // closes the file when the parse stops before its end
    }
  }
  let stray = false;
  let drift = 0;
  /** Fields in the header (null until it is read): how many delimiters a row's line holds. */
  let headerFields: number | null = null;
  /** A quoted field in the current record that swallowed row-like lines: its characters and lines. */
  let runaway: { chars: number; lines: number; delimiters: number } | null = null;
  const parser = parse({
    delimiter: delim,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    cast: (value, ctx) => {
      if (!ctx.quoting && value.includes('"')) stray = true;
      if (ctx.quoting && headerFields !== null && headerFields > 1 && runaway === null) {
        const segments = value.split(/\r\n|\n|\r/);
        // Every line but the last (where the field closes, its row's rest outside the quotes).
        const inner = segments.slice(0, -1);
        if (inner.length > 0 && inner.every((seg) => seg.split(delim).length === headerFields)) {
          runaway = { chars: value.length, lines: segments.length, delimiters: headerFields - 1 };
        }
      }
      return value;
    },
    on_record: (fields: string[], ctx) => {
      // csv-parse counts a \r\n inside quotes as two lines; undo that drift, then step back
      // over the record's own newlines to reach the line it starts on.
      let inside = 0;
      for (const f of fields) {
        const [n, crlf] = newlines(f);
        inside += n;
        drift += crlf;
      }
      const line = ctx.lines - drift - inside;
      const rec: SourceRecord = { line, values: fields, strayQuote: stray || undefined };
      if (headerFields === null) headerFields = fields.length;
      if (runaway) {
        const end = line + runaway.lines - 1;
        const d = runaway.delimiters;
        const name = delim === '\t' ? 'tab' : `'${delim}'`;
        rec.problem = {
          code: 'RUNAWAY_QUOTE',
          message:
            `starts a quoted field that only ends on line ${end} (${runaway.chars.toLocaleString('en')} characters over ${runaway.lines} lines), ` +
            `and each of its lines holds ${d} ${name}${d === 1 ? '' : 's'} like a row of its own: a stray quote (") has swallowed lines ${line}–${end}, none of which is imported. ` +
            `Fix: delete the quote that opens the field on line ${line} (or double it, "", if it belongs to the text); a text that really spans lines needs its quotes around that field only`,
        };
        delete rec.values;
        runaway = null;
      }
      stray = false;
      return rec as unknown as string[];
    },
  });
  // pipeline (not pipe) so a decoding error in the source reaches the parser's iterator.
  pipeline(Readable.from(all(), { highWaterMark: readAhead }), parser, () => {});
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<SourceRecord>;
  // Ending the parser's iterator destroys the parser; ending the chunks closes the file (at
  // once, or after a read in flight lands).
  const close = async () => {
    await records.return?.();
    await it.return?.(undefined);
    await text.closed();
  };
  const header = await next(records, file, 0).catch(async (err: unknown) => {
    await close();
    throw err;
  });
  if (!header) throw new EngineError('BAD_INPUT', `${file} is empty: there is no header row. Fix: give a file whose first line names the columns.`, { file, line: 1 });
  let columns: string[];
  try {
    columns = checkColumns(file, header.values!, 'line');
  } catch (err) {
    await close();
    throw err;
  }
  async function* rest(): AsyncGenerator<SourceRecord> {
    let last = header!.line;
    try {
      for (let r = await next(records, file, last); r; r = await next(records, file, last)) {
        last = r.line;
        yield r;
      }
    } finally {
      await close();
    }
  }
  return { kind, columns, records: rest(), unit: 'line', encoding: text.choice.encoding, delimiter: delim, notes: text.choice.note ? [text.choice.note] : [], close };
}

async function next(records: AsyncIterator<SourceRecord>, file: string, lastLine: number): Promise<SourceRecord | undefined> {
  try {
    const r = await records.next();
    return r.done ? undefined : r.value;
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
      throw new EngineError(
        'BAD_INPUT',
        `${file}: a quote (") opened after line ${lastLine} never closes; the file ends inside it at line ${e.lines}. ` +
          `Fix: close the quote in the record starting after line ${lastLine}, or double a literal quote inside a quoted field ("").`,
        { file, line: lastLine + 1, endLine: e.lines },
      );
    }
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new EngineError('BAD_INPUT', `${file} line ${e.lines ?? '?'}: ${e.message}. Fix: correct that line, or pass --delimiter if the wrong one was guessed.`, { file, line: e.lines });
    }
    throw err;
  }
}
