// Importing a retrieval set from three files (issue 5): queries (id, text), a corpus (id, text,
// optional title) and relevance judgements (query id, document id, score) — the BEIR layout
// (queries.jsonl / corpus.jsonl with _id, text, title; qrels/test.tsv with query-id, corpus-id,
// score), or the same columns as CSV, TSV or Parquet. Stored as retrieval.ts describes.
//
// What is checked, each problem listed with its file and line: records that cannot be read,
// missing ids, empty texts, duplicate ids (the first wins), judgements naming a query or a
// document the other files lack (skipped: an evaluation would count them as misses), repeated
// judgements, and queries no judgement marks relevant (left out; a warning, not an error,
// because BEIR keeps every split's queries in one file and a qrels file covers one split).
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ENGINE_VERSION } from '../version.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { Utf8DecodeError, latin1Note } from './encoding.js';
import type { ImportResult } from './import.js';
import { IssueLog } from './issue-log.js';
import { openSourceFile, type OpenedSource } from './open-source.js';
import { RETRIEVAL_FILES, type RetrievalQuery } from './retrieval.js';
import type { SourceRecord } from './source.js';
import { checkTokenLengths, type LengthCheck } from './token-lengths.js';
import { DATASET_SCHEMA_VERSION, type DatasetMeta, type EncodingName, type ImportIssue, type RetrievalPart, type SourceInfo } from './types.js';
import { MAX_TEXT_CHARS } from './validate.js';
import { Sink, resetFolder, writeDatasetFolder } from './write-folder.js';

export type RetrievalFiles = Record<RetrievalPart, string>;

export interface RetrievalImportOptions {
  encoding?: 'auto' | EncodingName;
  delimiter?: string;
  name?: string;
  lengthCheck?: LengthCheck;
}

// Column names per part, first match wins (compared lower-cased, '-' and spaces as '_').
const COLUMNS = {
  queries: { id: ['_id', 'id', 'query_id', 'qid'], text: ['text', 'query', 'question'] },
  corpus: { id: ['_id', 'id', 'corpus_id', 'doc_id', 'docid', 'pid', 'document_id'], text: ['text', 'passage', 'document', 'body', 'content', 'contents'], title: ['title'] },
  qrels: { query: ['query_id', 'qid', 'query', '_query_id'], doc: ['corpus_id', 'doc_id', 'docid', 'pid', 'document_id', 'doc'], score: ['score', 'relevance', 'rel', 'grade', 'label'] },
} as const;
const OPTIONAL = new Set(['title', 'score']);
const norm = (s: string) => s.trim().toLowerCase().replace(/[\s-]+/g, '_');
/** Index of the column with the most preferred of `names`, or -1. */
const findColumn = (columns: string[], names: readonly string[]) => {
  for (const n of names) {
    const i = columns.findIndex((c) => norm(c) === n);
    if (i >= 0) return i;
  }
  return -1;
};

export async function importRetrievalSet(files: RetrievalFiles, outDir: string, opts: RetrievalImportOptions = {}): Promise<ImportResult> {
  for (const part of ['queries', 'corpus', 'qrels'] as const) {
    const file = files[part];
    if (!file) throw new EngineError('BAD_INPUT', `a retrieval set needs a ${part} file. Fix: give --queries, --corpus and --qrels.`, { setting: part });
    if ((await stat(file).catch(() => undefined))?.isDirectory()) {
      throw new EngineError('BAD_INPUT', `${file} is a folder; give the ${part} file itself${part === 'qrels' ? ', e.g. qrels/test.tsv (BEIR keeps one file per split)' : ''}.`, { file });
    }
  }
  const encodings: Record<RetrievalPart, 'auto' | EncodingName> = { queries: opts.encoding ?? 'auto', corpus: opts.encoding ?? 'auto', qrels: opts.encoding ?? 'auto' };
  const { dir, result } = await writeDatasetFolder(outDir, async (temp, target) => {
    const notes: ImportIssue[] = [];
    for (;;) {
      try {
        let r = await importInto(files, temp, target, opts, encodings, notes);
        if (opts.lengthCheck) {
          const checked = await checkTokenLengths(temp, opts.lengthCheck.tokenizer, opts.lengthCheck.maxLength, opts.lengthCheck.template);
          r = { meta: checked.meta, report: checked.report };
        }
        return r;
      } catch (err) {
        if (!(err instanceof PartDecodeError)) throw err;
        const file = files[err.part];
        if (encodings[err.part] !== 'auto') {
          throw new EngineError('BAD_INPUT', `${file} line ${err.decode.line} is not valid UTF-8. Fix: re-save the file as UTF-8, or pass --encoding latin1 (or utf16le).`, { file, line: err.decode.line });
        }
        // The sample looked like UTF-8 but a later byte is not: start over, that file as Latin-1.
        encodings[err.part] = 'latin1';
        notes.push({ ...latin1Note(file, err.decode.line, err.decode.byte), file: err.part });
        await resetFolder(temp);
      }
    }
  });
  return { dir, ...result };
}

class PartDecodeError extends Error {
  constructor(
    readonly part: RetrievalPart,
    readonly decode: Utf8DecodeError,
  ) {
    super(decode.message);
  }
}

/** Reads one file's records as {column role → value}, tagging a late UTF-8 error with its part. */
async function* records(part: RetrievalPart, opened: OpenedSource, file: string): AsyncGenerator<{ rec: SourceRecord; get: (k: string) => unknown; columns: string[] }> {
  const { columns } = opened.source;
  const want = COLUMNS[part] as Record<string, readonly string[]>;
  const at: Record<string, number> = {};
  for (const [key, names] of Object.entries(want)) {
    const i = findColumn(columns, names);
    if (i < 0 && !OPTIONAL.has(key)) {
      throw new EngineError(
        'BAD_INPUT',
        `${file} (the ${part} file) has no ${key === 'doc' ? 'document id' : key === 'query' ? 'query id' : key} column; its columns are: ${columns.join(', ')}. ` +
          `Fix: name that column ${names[0]} (also understood: ${names.slice(1).join(', ')})${part === 'qrels' ? '; a TREC qrels file needs a header line query-id<TAB>corpus-id<TAB>score' : ''}.`,
        { file, part, columns },
      );
    }
    at[key] = i;
  }
  try {
    for await (const rec of opened.source.records) yield { rec, get: (k) => (at[k] >= 0 ? rec.values?.[at[k]] : undefined), columns };
  } catch (err) {
    throw err instanceof Utf8DecodeError ? new PartDecodeError(part, err) : err;
  }
}

async function importInto(
  files: RetrievalFiles,
  temp: string,
  target: string,
  opts: RetrievalImportOptions,
  encodings: Record<RetrievalPart, 'auto' | EncodingName>,
  notes: ImportIssue[],
): Promise<Omit<ImportResult, 'dir'>> {
  const log = new IssueLog(notes);
  const skippedOut = new Sink(join(temp, 'skipped.jsonl'));
  const corpusOut = new Sink(join(temp, RETRIEVAL_FILES.corpus));
  const queriesOut = new Sink(join(temp, RETRIEVAL_FILES.queries));
  const qrelsOut = new Sink(join(temp, RETRIEVAL_FILES.qrels));
  const sinks = [skippedOut, corpusOut, queriesOut, qrelsOut];
  const sources = {} as Record<RetrievalPart, SourceInfo>;
  let sourceRows = 0;
  let skipped = 0;
  const issue = (part: RetrievalPart, line: number | null, code: string, severity: 'error' | 'warning', message: string) =>
    log.take([{ line, code, severity, file: part, message: `${part} ${line === null ? '' : `line ${line}`}: ${message}${severity === 'error' ? '; skipped' : ''}` }]);
  const skip = async (part: RetrievalPart, { rec, columns }: { rec: SourceRecord; columns: string[] }, code: string, message: string) => {
    skipped++;
    issue(part, rec.line, code, 'error', message);
    const values = rec.values ? Object.fromEntries(columns.map((c, k) => [c, rec.values![k]])) : undefined;
    await skippedOut.write(JSON.stringify({ file: part, line: rec.line, code, values }));
  };
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined);
  // An id or text that cannot be used: the reason, else undefined.
  const bad = (what: string, v: unknown, required: boolean): string | undefined => {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return required ? `the ${what} is empty` : undefined;
    const s = text(v);
    if (s === undefined) return `the ${what} is ${Array.isArray(v) ? 'a list' : 'an object'}, not text`;
    if (s.includes('\u0000')) return `the ${what} contains a NUL byte (a corrupt or binary file?)`;
    if (s.length > MAX_TEXT_CHARS) return `the ${what} has ${s.length} characters, over the ${MAX_TEXT_CHARS} limit`;
    return undefined;
  };
  const open = async (part: RetrievalPart) => {
    const opened = await openSourceFile(files[part], { encoding: encodings[part], delimiter: opts.delimiter }).catch((err: unknown) => {
      throw err instanceof Utf8DecodeError ? new PartDecodeError(part, err) : err; // the first chunk may hold the bad byte
    });
    log.listed.push(...opened.source.notes.map((n) => ({ ...n, file: part })));
    return opened;
  };
  // Reads a part's id + text records: the problem checks every part shares.
  async function* usable(part: 'queries' | 'corpus', opened: OpenedSource, seen: Map<string, number>) {
    for await (const r of records(part, opened, files[part])) {
      const { rec, get } = r;
      sourceRows++;
      if (rec.problem) {
        await skip(part, r, rec.problem.code, rec.problem.message.replace(/^line \d+ /, ''));
        continue;
      }
      const why = bad('id', get('id'), true) ?? bad('text', get('text'), part === 'queries' || bad('title', get('title'), true) !== undefined) ?? bad('title', get('title'), false);
      if (why) {
        await skip(part, r, why.includes('empty') ? 'EMPTY_FIELD' : 'BAD_VALUE', why);
        continue;
      }
      const id = text(get('id'))!.trim();
      const first = seen.get(id);
      if (first !== undefined) {
        await skip(part, r, 'DUPLICATE_ID', `id '${id}' repeats line ${first}`);
        continue;
      }
      seen.set(id, rec.line);
      yield { id, text: text(get('text')) ?? '', title: text(get('title')), line: rec.line };
    }
  }
  try {
    // The corpus streams straight to disk (it may be millions of documents); its ids stay for the qrels check.
    const corpusIds = new Map<string, number>();
    const corpusFile = await open('corpus');
    for await (const d of usable('corpus', corpusFile, corpusIds)) {
      if (d.text.trim() === '') issue('corpus', d.line, 'TITLE_ONLY', 'warning', `document '${d.id}' has a title but no text; the title alone is embedded`);
      await corpusOut.write(JSON.stringify(d.title ? d : { id: d.id, text: d.text, line: d.line }));
    }
    sources.corpus = corpusFile.info();
    const queries = new Map<string, RetrievalQuery>();
    const queryLines = new Map<string, number>();
    const queriesFile = await open('queries');
    for await (const q of usable('queries', queriesFile, queryLines)) queries.set(q.id, { id: q.id, text: q.text, line: q.line });
    sources.queries = queriesFile.info();
    const relevant = new Set<string>();
    const judged = new Map<string, number>();
    const qrelsFile = await open('qrels');
    for await (const r of records('qrels', qrelsFile, files.qrels)) {
      const { rec, get } = r;
      sourceRows++;
      if (rec.problem) {
        await skip('qrels', r, rec.problem.code, rec.problem.message.replace(/^line \d+ /, ''));
        continue;
      }
      const why = bad('query id', get('query'), true) ?? bad('document id', get('doc'), true);
      if (why) {
        await skip('qrels', r, 'EMPTY_FIELD', why);
        continue;
      }
      const queryId = text(get('query'))!.trim();
      const corpusId = text(get('doc'))!.trim();
      const rawScore = get('score');
      const score = rawScore === undefined ? 1 : Number(typeof rawScore === 'string' && rawScore.trim() === '' ? NaN : rawScore);
      if (!Number.isFinite(score)) {
        await skip('qrels', r, 'BAD_SCORE', `score '${String(rawScore)}' is not a number`);
        continue;
      }
      if (!queries.has(queryId)) {
        await skip('qrels', r, 'UNKNOWN_QUERY', `query id '${queryId}' is not among the usable queries of ${files.queries}`);
        continue;
      }
      if (!corpusIds.has(corpusId)) {
        await skip('qrels', r, 'UNKNOWN_DOCUMENT', `document id '${corpusId}' is not among the usable documents of ${files.corpus}`);
        continue;
      }
      const key = `${queryId}\u0001${corpusId}`;
      const first = judged.get(key);
      if (first !== undefined) {
        await skip('qrels', r, 'DUPLICATE_JUDGEMENT', `query '${queryId}' and document '${corpusId}' were already judged on line ${first}`);
        continue;
      }
      judged.set(key, rec.line);
      if (score > 0) relevant.add(queryId);
      await qrelsOut.write(JSON.stringify({ queryId, corpusId, score, line: rec.line }));
    }
    sources.qrels = qrelsFile.info();
    let without = 0;
    for (const q of queries.values()) {
      if (relevant.has(q.id)) await queriesOut.write(JSON.stringify(q));
      else {
        without++;
        issue('queries', q.line, 'NO_RELEVANT', 'warning', `query '${q.id}' has no relevant document in ${files.qrels}; left out (nothing to evaluate it against)`);
      }
    }
    for (const s of sinks) await s.close();
    const kept = { queries: queries.size - without, corpus: corpusIds.size, qrels: judged.size };
    for (const part of ['corpus', 'qrels', 'queries'] as const) {
      if (kept[part] === 0) {
        const first = log.firstErrors(3, part);
        throw new EngineError(
          'BAD_INPUT',
          `${files[part]}: no usable ${part === 'qrels' ? 'judgements' : part}${part === 'queries' && queries.size > 0 ? ` (none of the ${queries.size} queries has a relevant document in ${files.qrels})` : ''}.` +
            `${first.length ? ` First problems: ${first.join(' | ')}.` : ''} Fix: check that the three files belong together and name the same ids.`,
          { file: files[part], part },
        );
      }
    }
    const report = log.report();
    const meta: DatasetMeta = {
      schemaVersion: DATASET_SCHEMA_VERSION,
      name: opts.name ?? basename(target),
      format: 'retrieval',
      roles: { anchor: sources.queries.columns[findColumn(sources.queries.columns, COLUMNS.queries.text)], positive: sources.corpus.columns[findColumn(sources.corpus.columns, COLUMNS.corpus.text)] },
      ignoredColumns: [],
      source: sources.queries,
      counts: { sourceRows, rows: kept.qrels, skipped, warnings: log.warnings },
      maxNegatives: 0,
      retrieval: { sources, ...kept, queriesWithoutRelevant: without },
      createdAt: new Date().toISOString(),
      engineVersion: ENGINE_VERSION,
    };
    await writeJsonAtomic(join(temp, 'report.json'), report);
    await writeJsonAtomic(join(temp, 'dataset.json'), meta); // last: it marks a complete dataset
    return { meta, report };
  } catch (err) {
    for (const s of sinks) s.destroy();
    throw err;
  }
}
