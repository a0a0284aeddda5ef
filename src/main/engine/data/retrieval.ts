// Retrieval sets (issue 5: "retrieval sets (queries, corpus, relevance judgements as three
// files)"), stored in a dataset folder as
//   queries.jsonl  {"id", "text", "line"}            queries with at least one relevant document
//   corpus.jsonl   {"id", "text", "title"?, "line"}  every document, judged or not
//   qrels.jsonl    {"queryId", "corpusId", "score", "line"}
// beside dataset.json (format 'retrieval') and report.json. `line` is the line (or Parquet row)
// of the source file. Import from BEIR-style files is retrieval-import.ts; this file reads a
// set back and derives one from a pairs or triplets dataset (issue 5 §5).
import { createReadStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ENGINE_VERSION } from '../version.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import type { ImportResult } from './import.js';
import { IssueLog } from './issue-log.js';
import { readDatasetMeta, readDatasetRows, readStoredLines } from './store.js';
import { DATASET_SCHEMA_VERSION, type DatasetMeta, type RetrievalPart } from './types.js';
import { Sink, writeDatasetFolder } from './write-folder.js';

export interface RetrievalQuery {
  id: string;
  text: string;
  line: number;
}
export interface RetrievalDoc {
  id: string;
  text: string;
  title?: string;
  line: number;
}
export interface RetrievalJudgement {
  queryId: string;
  corpusId: string;
  /** Graded relevance as the qrels file gave it; relevant means > 0 (BEIR, TREC). */
  score: number;
  line: number;
}
export interface RetrievalSet {
  queries: RetrievalQuery[];
  corpus: RetrievalDoc[];
  /** Query id → ids of its relevant documents (score > 0). */
  qrels: Map<string, Set<string>>;
  /** Query id → document id → score, every judgement (for graded nDCG). */
  grades: Map<string, Map<string, number>>;
}

type PartRecord = { queries: RetrievalQuery; corpus: RetrievalDoc; qrels: RetrievalJudgement };

export const RETRIEVAL_FILES: Record<RetrievalPart, string> = { queries: 'queries.jsonl', corpus: 'corpus.jsonl', qrels: 'qrels.jsonl' };

/** The text a model embeds for a document: title and text joined as BEIR does for dense retrievers. */
export function documentText(doc: Pick<RetrievalDoc, 'text' | 'title'>): string {
  return doc.title ? `${doc.title} ${doc.text}`.trim() : doc.text;
}

/** One part of a stored retrieval set, streamed (a corpus may be millions of documents). */
export async function* readRetrievalPart<P extends RetrievalPart>(dir: string, part: P): AsyncGenerator<PartRecord[P]> {
  const path = join(dir, RETRIEVAL_FILES[part]);
  const input = createReadStream(path, 'utf8');
  await new Promise<void>((ok, fail) => input.once('open', () => ok()).once('error', fail)).catch((e: NodeJS.ErrnoException) => {
    throw new EngineError('NOT_FOUND', `${dir} has no ${RETRIEVAL_FILES[part]} (${e.code}). Fix: import the retrieval set again.`, { path });
  });
  yield* readStoredLines<PartRecord[P]>(input, path);
}

export async function readRetrievalSet(dir: string): Promise<RetrievalSet> {
  const meta = await readDatasetMeta(dir);
  if (meta.format !== 'retrieval') {
    throw new EngineError('BAD_INPUT', `${dir} is a ${meta.format} dataset, not a retrieval set. Fix: derive one with \`embedsmith dataset retrieval ${dir} --out DIR\`.`, { dir });
  }
  const queries: RetrievalQuery[] = [];
  const corpus: RetrievalDoc[] = [];
  const qrels = new Map<string, Set<string>>();
  const grades = new Map<string, Map<string, number>>();
  for await (const q of readRetrievalPart(dir, 'queries')) queries.push(q);
  for await (const d of readRetrievalPart(dir, 'corpus')) corpus.push(d);
  for await (const j of readRetrievalPart(dir, 'qrels')) {
    let g = grades.get(j.queryId);
    if (!g) grades.set(j.queryId, (g = new Map()));
    g.set(j.corpusId, j.score);
    if (j.score > 0) {
      let s = qrels.get(j.queryId);
      if (!s) qrels.set(j.queryId, (s = new Set()));
      s.add(j.corpusId);
    }
  }
  return { queries, corpus, qrels, grades };
}

export interface DeriveOptions {
  /** Only the rows on this side of the dataset's split.json. */
  split?: 'train' | 'eval';
  name?: string;
}

/**
 * A retrieval set from a pairs or triplets dataset, as sentence-transformers' retrieval
 * evaluator reads one (DESIGN §6 `eval`): the distinct anchors are the queries, every distinct
 * positive and negative text is the corpus, and each anchor's positives are its relevant
 * documents. Texts are matched exactly; ids are q1 … and d1 … in order of first appearance.
 */
export async function deriveRetrievalSet(pairsDir: string, opts: DeriveOptions, outDir: string): Promise<ImportResult> {
  const from = await readDatasetMeta(pairsDir);
  if (from.format !== 'pairs' && from.format !== 'triplets') {
    throw new EngineError('BAD_INPUT', `${pairsDir} is a ${from.format} dataset; queries and relevant documents come from pairs or triplets (anchor, positive). Fix: give a pairs or triplets dataset.`, { dir: pairsDir });
  }
  const queries = new Map<string, RetrievalQuery>();
  const corpus = new Map<string, RetrievalDoc>();
  const judged = new Map<string, RetrievalJudgement>();
  let rows = 0;
  const doc = (text: string, line: number) => {
    let d = corpus.get(text);
    if (!d) corpus.set(text, (d = { id: `d${corpus.size + 1}`, text, line }));
    return d;
  };
  for await (const row of readDatasetRows(pairsDir, { split: opts.split })) {
    rows++;
    let q = queries.get(row.anchor!);
    if (!q) queries.set(row.anchor!, (q = { id: `q${queries.size + 1}`, text: row.anchor!, line: row.line }));
    const p = doc(row.positive!, row.line);
    for (const n of row.negatives ?? []) doc(n, row.line);
    const key = `${q.id}\u0001${p.id}`;
    if (!judged.has(key)) judged.set(key, { queryId: q.id, corpusId: p.id, score: 1, line: row.line });
  }
  if (rows === 0) {
    throw new EngineError('BAD_INPUT', `${pairsDir} has no ${opts.split ? `${opts.split} ` : ''}rows to make queries from. Fix: ${opts.split ? 'split it with a larger --eval fraction, or leave out --split' : 'give a dataset with rows'}.`, { dir: pairsDir });
  }
  const { dir, result } = await writeDatasetFolder(outDir, async (temp, target) => {
    await writeParts(temp, { queries: [...queries.values()], corpus: [...corpus.values()], qrels: [...judged.values()] });
    const report = new IssueLog().report();
    const meta: DatasetMeta = {
      schemaVersion: DATASET_SCHEMA_VERSION,
      name: opts.name ?? basename(target),
      format: 'retrieval',
      roles: { anchor: from.roles.anchor, positive: from.roles.positive },
      ignoredColumns: [],
      source: from.source,
      counts: { sourceRows: rows, rows: judged.size, skipped: 0, warnings: 0 },
      maxNegatives: 0,
      retrieval: { queries: queries.size, corpus: corpus.size, qrels: judged.size, queriesWithoutRelevant: 0 },
      derivedFrom: { dataset: resolve(pairsDir), split: opts.split },
      createdAt: new Date().toISOString(),
      engineVersion: ENGINE_VERSION,
    };
    await writeJsonAtomic(join(temp, 'report.json'), report);
    await writeJsonAtomic(join(temp, 'dataset.json'), meta); // last: it marks a complete dataset
    return { meta, report };
  }, [{ path: pairsDir, what: 'the dataset' }]);
  return { dir, ...result };
}

async function writeParts(dir: string, parts: { [P in RetrievalPart]: PartRecord[P][] }): Promise<void> {
  for (const part of ['queries', 'corpus', 'qrels'] as const) {
    const sink = new Sink(join(dir, RETRIEVAL_FILES[part]));
    try {
      for (const r of parts[part]) await sink.write(JSON.stringify(r));
      await sink.close();
    } catch (err) {
      sink.destroy();
      throw err;
    }
  }
}
