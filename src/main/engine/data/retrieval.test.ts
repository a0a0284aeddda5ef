// Retrieval sets: BEIR-layout and CSV imports keep what is usable and list the rest with file
// and line; readRetrievalSet gives eval its queries, corpus and relevance; a pairs dataset
// derives the same structure the retrieval evaluator builds from it.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from './import.js';
import { deriveRetrievalSet, documentText, readRetrievalSet } from './retrieval.js';
import { importRetrievalSet } from './retrieval-import.js';
import { splitDataset } from './split.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'retrieval-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

const jsonl = (...objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';

async function beir() {
  await writeFile(
    join(tmp, 'corpus.jsonl'),
    jsonl(
      { _id: 'd1', title: 'Cats', text: 'Cats purr.', metadata: {} },
      { _id: 'd2', title: '', text: 'Dogs bark.' },
      { _id: 'd2', title: '', text: 'a second d2' },
      { _id: 'd3', title: '', text: '  ' },
      { _id: 'd4', title: 'Only a title', text: '' },
      { _id: 5, text: 'a numeric id' },
    ),
  );
  await writeFile(
    join(tmp, 'queries.jsonl'),
    jsonl({ _id: 'q1', text: 'why do cats purr' }, { _id: 'q2', text: 'do dogs bark' }, { _id: 'q3', text: 'never judged' }, { _id: 'q4', text: 'judged, none relevant' }, { _id: 'q1', text: 'a second q1' }),
  );
  await mkdir(join(tmp, 'qrels'));
  const qrels = ['query-id\tcorpus-id\tscore', 'q1\td1\t1', 'q1\t5\t2', 'q2\td2\t1', 'q4\td4\t0', 'q9\td1\t1', 'q2\td3\t1', 'q1\td1\t1', 'q2\td1\tx'];
  await writeFile(join(tmp, 'qrels', 'test.tsv'), qrels.join('\n') + '\n');
  return { queries: join(tmp, 'queries.jsonl'), corpus: join(tmp, 'corpus.jsonl'), qrels: join(tmp, 'qrels', 'test.tsv') };
}

describe('importRetrievalSet', () => {
  it('BEIR layout: keeps the usable records, lists every problem with its file and line', async () => {
    const r = await importRetrievalSet(await beir(), join(tmp, 'ds'));
    expect(r.meta.format).toBe('retrieval');
    expect(r.meta.retrieval).toMatchObject({ queries: 2, corpus: 4, qrels: 4, queriesWithoutRelevant: 2 });
    expect(r.meta.counts).toMatchObject({ sourceRows: 19, rows: 4, skipped: 7 });
    expect(r.meta.roles).toEqual({ anchor: 'text', positive: 'text' });
    expect(r.report.issues.map((i) => [i.file, i.line, i.code])).toEqual([
      ['corpus', 3, 'DUPLICATE_ID'],
      ['corpus', 4, 'EMPTY_FIELD'],
      ['corpus', 5, 'TITLE_ONLY'],
      ['queries', 5, 'DUPLICATE_ID'],
      ['qrels', 6, 'UNKNOWN_QUERY'],
      ['qrels', 7, 'UNKNOWN_DOCUMENT'],
      ['qrels', 8, 'DUPLICATE_JUDGEMENT'],
      ['qrels', 9, 'BAD_SCORE'],
      ['queries', 3, 'NO_RELEVANT'],
      ['queries', 4, 'NO_RELEVANT'],
    ]);
    expect(r.report.issues.find((i) => i.code === 'UNKNOWN_QUERY')!.message).toBe(`qrels line 6: query id 'q9' is not among the usable queries of ${join(tmp, 'queries.jsonl')}; skipped`);
    expect(await readdir(r.dir)).toEqual(expect.arrayContaining(['dataset.json', 'report.json', 'skipped.jsonl', 'queries.jsonl', 'corpus.jsonl', 'qrels.jsonl']));

    const set = await readRetrievalSet(r.dir);
    expect(set.queries).toEqual([
      { id: 'q1', text: 'why do cats purr', line: 1 },
      { id: 'q2', text: 'do dogs bark', line: 2 },
    ]);
    expect(set.corpus.map((d) => [d.id, documentText(d)])).toEqual([
      ['d1', 'Cats Cats purr.'],
      ['d2', 'Dogs bark.'],
      ['d4', 'Only a title'],
      ['5', 'a numeric id'],
    ]);
    expect(set.qrels).toEqual(
      new Map([
        ['q1', new Set(['d1', '5'])],
        ['q2', new Set(['d2'])],
      ]),
    );
    expect(set.grades.get('q1')).toEqual(new Map([['d1', 1], ['5', 2]]));
    expect(set.grades.get('q4')).toEqual(new Map([['d4', 0]]));
  });

  it('CSV files with other common column names; no score column means relevant', async () => {
    await writeFile(join(tmp, 'q.csv'), 'qid,query\n1,"first, query"\n2,second\n');
    await writeFile(join(tmp, 'c.csv'), 'doc_id,passage,title\n10,alpha,\n20,beta,Beta\n');
    await writeFile(join(tmp, 'r.csv'), 'qid,pid\n1,10\n2,20\n2,10\n');
    const r = await importRetrievalSet({ queries: join(tmp, 'q.csv'), corpus: join(tmp, 'c.csv'), qrels: join(tmp, 'r.csv') }, join(tmp, 'ds'));
    expect(r.report.issues).toEqual([]);
    const set = await readRetrievalSet(r.dir);
    expect(set.queries.map((q) => q.text)).toEqual(['first, query', 'second']);
    expect(set.corpus).toEqual([
      { id: '10', text: 'alpha', line: 2 },
      { id: '20', text: 'beta', title: 'Beta', line: 3 },
    ]);
    expect(set.qrels.get('2')).toEqual(new Set(['20', '10']));
  });

  it('bad input: a qrels folder, a missing column, nothing usable — BAD_INPUT with the fix, nothing left behind', async () => {
    const files = await beir();
    await expect(importRetrievalSet({ ...files, qrels: join(tmp, 'qrels') }, join(tmp, 'ds'))).rejects.toThrow(/qrels is a folder; give the qrels file itself, e\.g\. qrels\/test\.tsv/);
    await writeFile(join(tmp, 'bad.tsv'), 'query\tdocument\nq1\td1\n');
    await expect(importRetrievalSet({ ...files, qrels: join(tmp, 'bad.tsv') }, join(tmp, 'ds'))).rejects.toThrow(
      /bad\.tsv \(the qrels file\) has no document id column; its columns are: query, document\. Fix: name that column corpus_id/,
    );
    await writeFile(join(tmp, 'none.tsv'), 'query-id\tcorpus-id\tscore\nq7\td1\t1\n');
    const err = await importRetrievalSet({ ...files, qrels: join(tmp, 'none.tsv') }, join(tmp, 'ds')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/none\.tsv: no usable judgements\. First problems: .*query id 'q7'/) });
    expect((await readdir(tmp)).sort()).toEqual(['bad.tsv', 'corpus.jsonl', 'none.tsv', 'qrels', 'queries.jsonl']);
  });

  it('a corpus that turns out Latin-1 after a UTF-8-looking start is read again as Latin-1, and the report says which file', async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ _id: `f${i}`, text: 'plain ascii filler text' })).join('\n');
    await writeFile(join(tmp, 'c.jsonl'), Buffer.concat([Buffer.from(filler + '\n'), Buffer.from('{"_id":"d1","text":"café"}\n', 'latin1')]));
    await writeFile(join(tmp, 'q.jsonl'), jsonl({ _id: 'q1', text: 'coffee' }));
    await writeFile(join(tmp, 'r.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
    const r = await importRetrievalSet({ queries: join(tmp, 'q.jsonl'), corpus: join(tmp, 'c.jsonl'), qrels: join(tmp, 'r.tsv') }, join(tmp, 'ds'));
    expect(r.meta.retrieval!.sources!.corpus.encoding).toBe('latin1');
    expect(r.meta.retrieval!.sources!.queries.encoding).toBe('utf8');
    expect(r.report.issues.find((i) => i.code === 'ENCODING_FALLBACK')).toMatchObject({ file: 'corpus', line: 3001 });
    expect((await readRetrievalSet(r.dir)).corpus.at(-1)).toMatchObject({ id: 'd1', text: 'café' });
    await expect(importRetrievalSet({ queries: join(tmp, 'q.jsonl'), corpus: join(tmp, 'c.jsonl'), qrels: join(tmp, 'r.tsv') }, join(tmp, 'ds2'), { encoding: 'utf8' })).rejects.toThrow(/c\.jsonl line 3001 is not valid UTF-8/);
  });

  it('a single-file import asked for --format retrieval says to give three files', async () => {
    await writeFile(join(tmp, 'p.csv'), 'anchor,positive\nq,p\n');
    await expect(importDataset(join(tmp, 'p.csv'), join(tmp, 'ds'), { format: 'retrieval' })).rejects.toThrow(/three files .* Fix: import it with --queries Q --corpus C --qrels R/);
  });
});

describe('deriveRetrievalSet', () => {
  it('distinct anchors are queries, distinct positives and negatives the corpus, each anchor\'s positives relevant', async () => {
    await writeFile(join(tmp, 't.csv'), 'anchor,positive,negative_1\nq,p,n\nq,p2,p\nr,n,p\nq,p,n\n');
    const src = (await importDataset(join(tmp, 't.csv'), join(tmp, 'triplets'))).dir;
    const r = await deriveRetrievalSet(src, {}, join(tmp, 'ret'));
    expect(r.meta).toMatchObject({ format: 'retrieval', derivedFrom: { dataset: src }, retrieval: { queries: 2, corpus: 3, qrels: 3 } });
    const set = await readRetrievalSet(r.dir);
    expect(set.queries.map((q) => [q.id, q.text])).toEqual([
      ['q1', 'q'],
      ['q2', 'r'],
    ]);
    expect(set.corpus.map((d) => [d.id, d.text])).toEqual([
      ['d1', 'p'],
      ['d2', 'n'],
      ['d3', 'p2'],
    ]);
    expect(set.qrels).toEqual(
      new Map([
        ['q1', new Set(['d1', 'd3'])],
        ['q2', new Set(['d2'])],
      ]),
    );
  });

  it('--split eval takes only the eval rows; labeled datasets are refused', async () => {
    const body = Array.from({ length: 10 }, (_, i) => `a${i},b${i}`).join('\n');
    await writeFile(join(tmp, 'p.csv'), `anchor,positive\n${body}\n`);
    const src = (await importDataset(join(tmp, 'p.csv'), join(tmp, 'pairs'))).dir;
    const split = await splitDataset(src, { evalFraction: 0.2, seed: 3 });
    const set = await readRetrievalSet((await deriveRetrievalSet(src, { split: 'eval' }, join(tmp, 'ret'))).dir);
    expect(set.queries.map((q) => q.text)).toEqual(split.eval.map((i) => `a${i}`));
    await writeFile(join(tmp, 'l.csv'), 'text,label\nx,a\ny,b\n');
    const labeled = (await importDataset(join(tmp, 'l.csv'), join(tmp, 'lab'))).dir;
    await expect(deriveRetrievalSet(labeled, {}, join(tmp, 'ret2'))).rejects.toThrow(/labeled dataset; .* Fix: give a pairs or triplets dataset/);
    await expect(readRetrievalSet(src)).rejects.toThrow(/pairs dataset, not a retrieval set/);
    expect(JSON.parse(await readFile(join(tmp, 'ret', 'dataset.json'), 'utf8')).derivedFrom.split).toBe('eval');
  });
});
