// The import form's rules: problems shown as the user types, and the requests the engine gets
// (the preview's and the import's, which must read the file the same way).
import { describe, expect, it } from 'vitest';
import {
  canImport,
  canPreview,
  datasetNameFor,
  emptyForm,
  importRequest,
  isAbsolutePath,
  mapSpec,
  previewRequest,
  rolesFor,
  rolesFound,
  validateImport,
  type ImportForm,
} from './import-form.js';

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

  it("checks mapped columns against the engine's preview, and required roles of a chosen format", () => {
    const columns = ['question', 'reply', 'topic'];
    const c = { ...ctx, columns, guessed: rolesFound({ anchor: 'question', positive: 'reply' }) };
    expect(validateImport(form({ map: { anchor: 'questoin' } }), c).anchor).toBe('column "questoin" is not in the file; its columns are question, reply, topic');
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

  it('asks the engine for a preview only with a full path and a usable delimiter', () => {
    expect(canPreview(form({}), {})).toBe(true);
    expect(canPreview(form({ file: ' ' }), {})).toBe(false);
    expect(canPreview(form({ file: 'pairs.csv' }), validateImport(form({ file: 'pairs.csv' }), ctx))).toBe(false);
    expect(canPreview(form({ delimiter: ';;' }), validateImport(form({ delimiter: ';;' }), ctx))).toBe(false);
    // A dataset name in use does not stop the preview: it is about the file.
    expect(canPreview(form({ name: 'faq' }), validateImport(form({ name: 'faq' }), ctx))).toBe(true);
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

  it("previews with the import's own reading options, without the output folder", () => {
    const f = form({ format: 'labeled', map: { text: 'body', label: 'topic' }, delimiter: '\\t', encoding: 'utf16le' });
    expect(previewRequest(f)).toEqual({ file: '/data/pairs.csv', format: 'labeled', encoding: 'utf16le', map: 'text=body,label=topic', delimiter: '\t' });
    const { out, ...reading } = importRequest(f, ctx);
    expect(out).toBe('/home/ada/Embedsmith/legal/datasets/pairs');
    expect(reading).toEqual(previewRequest(f));
  });

  it("reads a preview's roles as role → columns", () => {
    expect(rolesFound({ anchor: 'q', positive: 'a', negative: ['n1', 'n2'], label: 'topic' })).toEqual({ anchor: ['q'], positive: ['a'], negative: ['n1', 'n2'], label: ['topic'] });
    expect(rolesFound({})).toEqual({});
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
