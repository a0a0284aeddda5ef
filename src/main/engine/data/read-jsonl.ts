// JSON Lines: one object per line. The first object's keys are the columns; a line that is
// not JSON or not an object becomes a skipped record (listed with its line), never a silent
// drop and never the end of the import. A whole-file JSON array is refused with a fix.
import { EngineError } from '../../../shared/errors.js';
import { checkColumns, type Source, type SourceRecord, type TextStream } from './source.js';

/** Lines of the text stream with their 1-based numbers (\n or \r\n endings). */
async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<[number, string]> {
  let carry = '';
  let n = 0;
  for await (const chunk of chunks) {
    const text = carry + chunk;
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
      const end = i > start && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
      yield [++n, text.slice(start, end)];
      start = i + 1;
    }
    carry = text.slice(start);
  }
  if (carry !== '') yield [++n, carry.endsWith('\r') ? carry.slice(0, -1) : carry];
}

function parseLine(line: number, raw: string): { obj?: Record<string, unknown>; problem?: SourceRecord['problem'] } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    const shown = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
    return { problem: { code: 'INVALID_JSON', message: `line ${line} is not valid JSON (${(e as Error).message}): ${shown}` } };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { problem: { code: 'NOT_AN_OBJECT', message: `line ${line} is ${Array.isArray(v) ? 'an array' : JSON.stringify(v).slice(0, 40)}, not a JSON object like {"anchor": …, "positive": …}` } };
  }
  return { obj: v as Record<string, unknown> };
}

export async function openJsonl(file: string, text: TextStream): Promise<Source> {
  const it = lines(text.chunks)[Symbol.asyncIterator]();
  const early: SourceRecord[] = [];
  let columns: string[] | undefined;
  let sawAny = false;
  // Ending the line reader ends its loop over the chunks, which closes the file.
  const close = async () => {
    await it.return?.(undefined);
    await text.closed();
  };
  try {
    while (!columns) {
      const r = await it.next();
      if (r.done) break;
      const [line, raw] = r.value;
      if (raw.trim() === '') continue;
      if (!sawAny && raw.trimStart().startsWith('[')) {
        throw new EngineError('BAD_INPUT', `${file} line ${line} starts a JSON array; JSONL needs one object per line. Fix: convert it, e.g. \`jq -c '.[]' ${file} > data.jsonl\`.`, { file, line });
      }
      sawAny = true;
      const { obj, problem } = parseLine(line, raw);
      if (problem) early.push({ line, problem });
      else {
        columns = checkColumns(file, Object.keys(obj!), 'line');
        early.push({ line, values: columns.map((c) => obj![c]) });
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  if (!columns) {
    const why = early.length ? `none of its ${early.length} non-blank lines is a JSON object (line ${early[0].line}: ${early[0].problem!.message})` : 'it is empty';
    throw new EngineError('BAD_INPUT', `${file}: ${why}. Fix: give one JSON object per line, e.g. {"anchor": "…", "positive": "…"}.`, { file });
  }
  const cols = columns;
  async function* records(): AsyncGenerator<SourceRecord> {
    try {
      yield* early;
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const [line, raw] = r.value;
        if (raw.trim() === '') continue;
        const { obj, problem } = parseLine(line, raw);
        yield problem ? { line, problem } : { line, values: cols.map((c) => obj![c]) };
      }
    } finally {
      await close();
    }
  }
  return { kind: 'jsonl', columns: cols, records: records(), unit: 'line', encoding: text.choice.encoding, notes: text.choice.note ? [text.choice.note] : [], close };
}
