// The texts `embedsmith embed --input FILE [--column NAME]` reads (DESIGN §6): a .txt file,
// one text per line, or one column of a CSV / TSV / JSONL file. A minimal reader until the
// data issue's importer exists: RFC 4180 quoting (doubled quotes, delimiters and newlines
// inside quotes), a header row, UTF-8 with or without a BOM. Errors name the file, the line
// and the column, and say how to fix it; nothing is dropped without being counted.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { EngineError } from '../../../../shared/errors.js';
import { ioError } from '../../workspace/fs-errors.js';

export interface InputTexts {
  texts: string[];
  /** Per text, the 1-based line of the file it starts on (for messages). */
  lines: number[];
  /** What the reader decided (blank lines skipped, empty texts kept), for the user. */
  notes: string[];
}

export const INPUT_FORMATS = ['.txt', '.csv', '.tsv', '.jsonl', '.ndjson'];

export async function readInputTexts(file: string, column?: string): Promise<InputTexts> {
  const ext = extname(file).toLowerCase();
  if (!INPUT_FORMATS.includes(ext)) {
    throw new EngineError('BAD_INPUT', `${file}: unsupported input type '${ext || '(none)'}'; give one of ${INPUT_FORMATS.join(', ')}`, { file });
  }
  if (ext === '.txt' && column !== undefined) {
    throw new EngineError('BAD_INPUT', `--column applies to CSV, TSV and JSONL input; ${file} is a text file with one text per line: drop --column`, { file });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EngineError('NOT_FOUND', `${file} does not exist. Fix: check the path.`, { file });
    throw ioError(e, file, 'read');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new EngineError('BAD_INPUT', `${file} is not valid UTF-8; re-save it as UTF-8 (e.g. \`iconv -f latin1 -t utf-8\`)`, { file });
  }
  if (ext === '.txt') return readLines(text);
  if (ext === '.jsonl' || ext === '.ndjson') return readJsonl(text, file, column);
  return readDelimited(text, file, ext === '.tsv' ? '\t' : ',', column);
}

function readLines(text: string): InputTexts {
  const parts = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // the final newline ends a line, it does not start one
  const empty = parts.filter((p) => p.trim() === '').length;
  const notes = empty ? [`${empty} empty line(s) kept as empty texts, so output rows match input lines`] : [];
  return { texts: parts, lines: parts.map((_, i) => i + 1), notes };
}

function readJsonl(text: string, file: string, column: string | undefined): InputTexts {
  const out: InputTexts = { texts: [], lines: [], notes: [] };
  let blank = 0;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return void blank++;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new EngineError('BAD_INPUT', `${file}:${line}: not valid JSON (${(e as Error).message}); each line must be one JSON object`, { file, line });
    }
    let value: unknown = v;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const key = column ?? (keys.length === 1 ? keys[0] : undefined);
      if (key === undefined) {
        throw new EngineError('BAD_INPUT', `${file}:${line}: objects have fields ${keys.join(', ')}; pick the text with --column NAME`, { file, line });
      }
      if (!(key in v)) {
        throw new EngineError('BAD_INPUT', `${file}:${line}: no field '${key}'; fields are: ${keys.join(', ')} — pass one of them with --column`, { file, line, column: key });
      }
      value = (v as Record<string, unknown>)[key];
    } else if (column !== undefined) {
      throw new EngineError('BAD_INPUT', `${file}:${line}: --column '${column}' needs a JSON object per line, got ${JSON.stringify(v).slice(0, 40)}`, { file, line });
    }
    if (typeof value !== 'string') {
      throw new EngineError('BAD_INPUT', `${file}:${line}: ${column ? `field '${column}'` : 'the value'} is ${JSON.stringify(value)?.slice(0, 40)}, not a string; give text values`, { file, line, column });
    }
    out.texts.push(value);
    out.lines.push(line);
  });
  if (blank) out.notes.push(`${blank} blank line(s) skipped`);
  return out;
}

/** Records of a delimited file, each with the 1-based line it starts on. */
export function parseDelimited(text: string, file: string, delimiter: string): Array<{ line: number; fields: string[] }> {
  const records: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let quoteLine = 0;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    // A blank line is no record (Python's csv gives [], pandas skips it).
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
    fields = [];
    field = '';
    start = line;
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'; // a doubled quote is a literal one
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        if (c === '\n') line++;
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
      i++;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      endRecord();
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new EngineError('BAD_INPUT', `${file}:${quoteLine}: a quoted field is never closed; add the missing '"' (a literal quote inside quotes is written "")`, { file, line: quoteLine });
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

function readDelimited(text: string, file: string, delimiter: string, column: string | undefined): InputTexts {
  const records = parseDelimited(text, file, delimiter);
  const name = delimiter === '\t' ? 'TSV' : 'CSV';
  if (records.length === 0) throw new EngineError('BAD_INPUT', `${file} is empty; a ${name} file needs a header row naming its columns`, { file });
  const header = records[0].fields.map((h) => h.trim());
  const col = column ?? (header.length === 1 ? header[0] : undefined);
  if (col === undefined) {
    throw new EngineError('BAD_INPUT', `${file}: ${header.length} columns (${header.join(', ')}); pick the text column with --column NAME`, { file });
  }
  const at = header.indexOf(col);
  if (at < 0) {
    throw new EngineError('BAD_INPUT', `${file}: column '${col}' not found; columns are: ${header.join(', ')} — pass one of them with --column`, { file, column: col });
  }
  const out: InputTexts = { texts: [], lines: [], notes: [] };
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      throw new EngineError(
        'BAD_INPUT',
        `${file}:${r.line}: ${r.fields.length} fields, the header has ${header.length}; quote fields that contain '${delimiter === '\t' ? '\\t' : delimiter}' or a newline`,
        { file, line: r.line },
      );
    }
    out.texts.push(r.fields[at]);
    out.lines.push(r.line);
  }
  return out;
}
