// The import form's rules (problems shown as the user types, and the request the engine gets)
// and the in-browser preview of a picked file: delimiter, quoting, header roles, lines.
import { describe, expect, it } from 'vitest';
import { canImport, datasetNameFor, emptyForm, importRequest, isAbsolutePath, mapSpec, rolesFor, validateImport, type ImportForm } from './import-form.js';
import { guessRoles, parseDelimited, previewFile, previewText, sniffDelimiter } from './import-preview.js';

const ctx = { projectDir: '/home/ada/Embedsmith/legal', existing: ['faq'], columns: null };
const form = (over: Partial<ImportForm>): ImportForm => ({ ...emptyForm(), file: '/data/pairs.csv', name: 'pairs', ...over });

describe('validateImport', () => {
  it('asks for a full path, and says why', () => {
    expect(validateImport(form({ file: 'pairs.csv' }), ctx).file).toContain('give the full path, e.g. /home/ada/Embedsmith/legal/pairs.csv');
    expect(validateImport(form({ file: '/data/' }), ctx).file).toContain('that is a folder');
    expect(validateImport(form({ file: '/data/book.xlsx' }), ctx).file).toContain('save the sheet as CSV');
    for (const ok of ['/data/pairs.csv', 'C:\\data\\pairs.csv', 'D:/x.tsv', '\\\\server\\share\\x.jsonl']) {
      expect(isAbsolutePath(ok)).toBe(true);
      expect(validateImport(form({ file: ok }), ctx).file).toBeUndefined();
    }
  });

  it('refuses names that would be hidden, paths, and names in use', () => {
    expect(validateImport(form({ name: '.tmp' }), ctx).name).toContain('hidden');
    expect(validateImport(form({ name: 'a/b' }), ctx).name).toContain('a name, not a path');
    expect(validateImport(form({ name: 'faq' }), ctx).name).toBe('the project has a dataset named faq already; pick another name');
    expect(validateImport(form({}), ctx)).toEqual({});
  });

  it('takes one delimiter character, or \\t / tab', () => {
    expect(validateImport(form({ delimiter: ';;' }), ctx).delimiter).toContain('one character');
    for (const d of ['', ';', '\\t', 'tab', 'TAB']) expect(validateImport(form({ delimiter: d }), ctx).delimiter).toBeUndefined();
  });

  it('checks mapped columns against the previewed header, and required roles of a chosen format', () => {
    const columns = ['question', 'reply', 'topic'];
    const c = { ...ctx, columns, guessed: guessRoles(columns).roles };
    expect(validateImport(form({ map: { anchor: 'questoin' } }), c).anchor).toBe('column "questoin" is not in the previewed file; its columns are question, reply, topic');
    expect(validateImport(form({ format: 'labeled' }), c).text).toContain('the labeled format needs a text column and none is named like one; pick one of question, reply, topic');
    expect(validateImport(form({ format: 'labeled', map: { text: 'question', label: 'topic' } }), c)).toEqual({});
    expect(validateImport(form({ format: 'pairs' }), c)).toEqual({}); // question / reply are found by name
    // Without a preview the engine is the judge: nothing to say here.
    expect(validateImport(form({ format: 'labeled', map: { text: 'whatever' } }), ctx)).toEqual({});
  });

  it('enables Import only with a file, a name and no problem', () => {
    expect(canImport(form({ file: '' }), {})).toBe(false);
    expect(canImport(form({ name: ' ' }), {})).toBe(false);
    expect(canImport(form({}), { name: 'x' })).toBe(false);
    expect(canImport(form({}), {})).toBe(true);
  });
});

describe('importRequest', () => {
  it('writes into PROJECT/datasets/NAME with --map built per role, negatives in order', () => {
    const f = form({ format: 'triplets', map: { anchor: ' q ', negative: 'n1, n2', text: 'ignored: not a triplets role' }, delimiter: 'tab', encoding: 'latin1' });
    expect(mapSpec(f)).toBe('anchor=q,negative=n1,negative=n2');
    expect(importRequest(f, ctx)).toEqual({
      file: '/data/pairs.csv',
      out: '/home/ada/Embedsmith/legal/datasets/pairs',
      format: 'triplets',
      encoding: 'latin1',
      map: 'anchor=q,negative=n1,negative=n2',
      delimiter: '\t',
    });
    expect(importRequest(form({}), { projectDir: 'C:\\Users\\ada\\legal' }).out).toBe('C:\\Users\\ada\\legal\\datasets\\pairs');
    expect(importRequest(form({}), ctx)).not.toHaveProperty('map');
  });

  it('suggests a folder name from the file', () => {
    expect(datasetNameFor('/home/ada/Support Tickets (EN).csv')).toBe('support-tickets-en');
    expect(datasetNameFor('C:\\x\\faq.v2.jsonl')).toBe('faq-v2');
    expect(datasetNameFor('')).toBe('');
  });

  it('shows the roles of the chosen format, with label beside pairs for stratified splits', () => {
    expect(rolesFor('pairs')).toEqual(['anchor', 'positive', 'label']);
    expect(rolesFor('labeled')).toEqual(['text', 'label']);
    expect(rolesFor('auto')).toHaveLength(6);
  });
});

describe('file preview', () => {
  it('parses RFC 4180 quoting: doubled quotes, delimiters and newlines inside quotes, with start lines', () => {
    const csv = 'anchor,positive\n"a, b","say ""hi"""\n"two\nlines",x\nlast,row';
    expect(parseDelimited(csv, ',', 10)).toEqual([
      { line: 1, values: ['anchor', 'positive'] },
      { line: 2, values: ['a, b', 'say "hi"'] },
      { line: 3, values: ['two\nlines', 'x'] },
      { line: 5, values: ['last', 'row'] },
    ]);
    // A sample cut from a larger file drops its torn last line.
    expect(parseDelimited(csv, ',', 10, false)).toHaveLength(3);
  });

  it('sniffs the delimiter the header and most lines agree on', () => {
    expect(sniffDelimiter(['a;b;c', '1;2,5;3', '4;5;6'], false)).toBe(';');
    expect(sniffDelimiter(['a\tb', 'x, y\tz'], true)).toBe('\t');
    expect(sniffDelimiter(['single'], false)).toBe(',');
  });

  it('guesses roles and format from header names as the engine does', () => {
    expect(guessRoles(['Question', 'Answer'])).toEqual({ roles: { anchor: ['Question'], positive: ['Answer'] }, format: 'pairs' });
    expect(guessRoles(['query', 'pos', 'neg_1', 'neg_2']).format).toBe('triplets');
    expect(guessRoles(['sentence1', 'sentence2', 'score']).format).toBe('scored');
    expect(guessRoles(['utterance', 'intent']).format).toBe('labeled');
    expect(guessRoles(['foo', 'bar']).format).toBeNull();
  });

  it('previews CSV, TSV and JSONL, and declines Parquet', async () => {
    const csv = previewText('faq.csv', '\uFEFFquestion;answer\nq1;a1\nq2;a2\n');
    expect(csv).toMatchObject({ kind: 'csv', delimiter: ';', columns: ['question', 'answer'], format: 'pairs' });
    expect(csv.rows).toEqual([{ line: 2, values: ['q1', 'a1'] }, { line: 3, values: ['q2', 'a2'] }]);
    const jsonl = previewText('x.jsonl', '{"text":"hi","label":"greet"}\n\nnot json\n{"text":"bye","label":"leave","extra":[1]}\n');
    expect(jsonl.columns).toEqual(['text', 'label', 'extra']);
    expect(jsonl.rows).toEqual([{ line: 1, values: ['hi', 'greet', ''] }, { line: 4, values: ['bye', 'leave', '[1]'] }]);
    expect(jsonl.format).toBe('labeled');
    expect(previewText('x.parquet', 'PAR1…')).toMatchObject({ kind: 'parquet', columns: [] });
    const file = new File(['anchor\tpositive\na\tb'], 'pairs.tsv');
    expect(await previewFile(file)).toMatchObject({ kind: 'tsv', delimiter: '\t', rows: [{ line: 2, values: ['a', 'b'] }] });
  });
});
