import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../tokenize/tokenizer.js';
import { createProject } from '../workspace/project.js';
import { EngineError } from '../../../shared/errors.js';
import { TEMPLATE_PRESETS, applyRoleTemplate, applyTemplate, deleteTemplate, listProjectTemplates, loadTemplates, previewTemplate, saveTemplate, templateByName, templateToPrompts } from './templates.js';

const BERT_TOK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/models/bert-wordpiece-uncased');
// Counted by hand in the bert-base-uncased vocabulary: six whole words, plus [CLS] and [SEP].
const CAT = 'the cat sat on the mat';

describe('applyTemplate', () => {
  it('prefixes, or fills every {text}', () => {
    expect(applyTemplate('query: ', 'how to cancel')).toBe('query: how to cancel');
    expect(applyTemplate('<q>{text}</q>', 'x')).toBe('<q>x</q>');
    expect(applyTemplate('', 'x')).toBe('x');
  });

  it('presets give the strings each model card documents', () => {
    expect(applyRoleTemplate(TEMPLATE_PRESETS.e5, 'query', 'x')).toBe('query: x');
    expect(applyRoleTemplate(TEMPLATE_PRESETS.e5, 'document', 'x')).toBe('passage: x');
    expect(applyRoleTemplate(TEMPLATE_PRESETS.bge, 'query', 'x')).toBe('Represent this sentence for searching relevant passages: x');
    expect(applyRoleTemplate(TEMPLATE_PRESETS.bge, 'document', 'x')).toBe('x');
    expect(applyRoleTemplate(TEMPLATE_PRESETS.nomic, 'document', 'x')).toBe('search_document: x');
  });

  it('exports prefixes as sentence-transformers prompts and refuses text after {text}', () => {
    expect(templateToPrompts(TEMPLATE_PRESETS.e5)).toEqual({ query: 'query: ', document: 'passage: ', text: 'query: ' });
    expect(templateToPrompts({ query: 'q: {text}', document: '', text: '' })).toEqual({ query: 'q: ' });
    expect(() => templateToPrompts({ query: '{text} ?', document: '', text: '' })).toThrow(/puts text after \{text\}/);
  });
});

describe('templates.json', () => {
  let tmp: string;
  beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'tpl-'))));
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  it('saves presets and custom templates in the project and reads them back', async () => {
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      await saveTemplate(dir, 'e5', 'e5');
      await saveTemplate(dir, 'mine', { query: 'Q: {text}', document: 'D: ', text: '' });
      expect(await loadTemplates(dir)).toEqual({ e5: TEMPLATE_PRESETS.e5, mine: { query: 'Q: {text}', document: 'D: ', text: '' } });
      expect(JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8')).schemaVersion).toBe(1);
      await expect(saveTemplate(dir, 'x', 'nope' as never)).rejects.toThrow(/no template preset 'nope'/);
    } finally {
      await project.close();
    }
  });

  /** The error a call rejects with (fails the test when it resolves). */
  const refusal = (p: Promise<unknown>) => p.then(() => expect.fail('expected a refusal'), (e: unknown) => e as EngineError);

  it('lists them with the active one, keeps the active one through later saves, and deletes', async () => {
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      const file = join(dir, 'templates.json');
      expect(await listProjectTemplates(dir)).toEqual({ file, active: null, templates: [] });
      const legal = { query: 'Find the clause: {text}', document: 'Clause: ', text: '' };
      expect(await saveTemplate(dir, 'legal', legal, { active: true })).toEqual({ file, active: 'legal', templates: [{ name: 'legal', template: legal }] });
      // A save without `active` leaves the active one as it was; its file order is kept.
      await saveTemplate(dir, 'e5', 'e5');
      expect(await listProjectTemplates(dir)).toMatchObject({ active: 'legal', templates: [{ name: 'legal' }, { name: 'e5' }] });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ schemaVersion: 1, active: 'legal', templates: { legal, e5: TEMPLATE_PRESETS.e5 } });
      expect(await deleteTemplate(dir, 'legal')).toEqual({ file, active: null, templates: [{ name: 'e5', template: TEMPLATE_PRESETS.e5 }] });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ schemaVersion: 1, templates: { e5: TEMPLATE_PRESETS.e5 } });
      const gone = await refusal(deleteTemplate(dir, 'legal'));
      expect(gone.code).toBe('NOT_FOUND');
      expect(gone.message).toBe(`no template 'legal' is saved in ${file}; saved: e5.`);
    } finally {
      await project.close();
    }
  });

  it('refuses what the Templates page flags, naming the field and the fix, and leaves the file as it was', async () => {
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      const before = await readFile(join(dir, 'templates.json'), 'utf8');
      const ok = { query: 'q: ', document: '', text: '' };
      const cases: [string, unknown, string, string][] = [
        ['a', { ...ok, query: 'q: {text} and {text}' }, 'query', `the query template of 'a' ("q: {text} and {text}") is refused: {text} appears 2 times, so every text would be repeated 2 times; keep one.`],
        ['a', { ...ok, document: 'd: { Text }' }, 'document', `the document template of 'a' ("d: { Text }") is refused: write the placeholder exactly as {text} (lower case, no spaces).`],
        ['a', { query: 'q: ', document: '' }, 'text', `template 'a' needs a string for the text role, got nothing. Fix: give "" for no template.`],
        ['', ok, 'name', `a saved template needs a name (got ""). Fix: give one, e.g. 'default'.`],
        [' a', ok, 'name', `the template name " a" starts or ends with spaces. Fix: use "a".`],
        ['a\nb', ok, 'name', `the template name "a\\nb" holds a control character (newline, tab …). Fix: remove it.`],
        ['e5', ok, 'name', `'e5' is the name of a preset and this template differs from it. Fix: choose another name, e.g. 'e5-custom'.`],
      ];
      for (const [name, t, field, message] of cases) {
        const e = await refusal(saveTemplate(dir, name, t as never));
        expect([e.code, e.details?.setting, e.message]).toEqual(['BAD_INPUT', field, message]);
      }
      expect(await readFile(join(dir, 'templates.json'), 'utf8')).toBe(before);
      // The rules are for saving: {text} once, or a plain prefix, and a preset under its own name.
      await saveTemplate(dir, 'e5', { ...TEMPLATE_PRESETS.e5 });
      await saveTemplate(dir, 'fmt', { query: '<q>{text}</q>', document: '{text}', text: '' });
      expect(Object.keys(await loadTemplates(dir))).toEqual(['e5', 'fmt']);
    } finally {
      await project.close();
    }
  });

  it('keeps fields it does not know, takes any name as a name, and lands saves made together', async () => {
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      const file = join(dir, 'templates.json');
      await writeFile(file, JSON.stringify({ schemaVersion: 1, note: 'from a newer build', active: 'gone', templates: {} }));
      // An `active` naming no saved template reads as none.
      expect((await listProjectTemplates(dir)).active).toBeNull();
      const t = (q: string) => ({ query: q, document: '', text: '' });
      await Promise.all(['a', 'b', 'c', '__proto__', 'toString'].map((n) => saveTemplate(dir, n, t(`${n}: `), { active: n === 'b' })));
      const saved = await listProjectTemplates(dir);
      expect(saved.templates.map((x) => [x.name, x.template.query])).toEqual([['a', 'a: '], ['b', 'b: '], ['c', 'c: '], ['__proto__', '__proto__: '], ['toString', 'toString: ']]);
      expect(saved.active).toBe('b');
      expect(JSON.parse(await readFile(file, 'utf8')).note).toBe('from a newer build');
      expect(await templateByName('__proto__', dir)).toEqual(t('__proto__: '));
    } finally {
      await project.close();
    }
  });

  it('says what is wrong with a folder that is no project and a file it cannot read', async () => {
    const e = await refusal(listProjectTemplates(join(tmp, 'nothing')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe(`${join(tmp, 'nothing')} is not an Embedsmith project: it has no project.json. Fix: give the project folder (the one holding project.json).`);
    await expect(saveTemplate(join(tmp, 'nothing'), 'a', { query: '', document: '', text: '' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      await writeFile(join(dir, 'templates.json'), JSON.stringify({ schemaVersion: 1, templates: { a: { query: 'q: ', document: 3, text: '' } } }));
      const bad = await refusal(listProjectTemplates(dir));
      expect([bad.code, bad.message]).toEqual(['SCHEMA', `${join(dir, 'templates.json')}: template 'a' needs a string for the document role. Fix: write "" for none, in a text editor.`]);
    } finally {
      await project.close();
    }
  });

  it('finds --template NAME among the saved templates first, then the presets', async () => {
    const dir = join(tmp, 'p');
    const project = await createProject(dir, 'P');
    try {
      await saveTemplate(dir, 'legal', { query: 'Q: ', document: 'D: ', text: '' });
      expect(await templateByName('legal', dir)).toEqual({ query: 'Q: ', document: 'D: ', text: '' });
      expect(await templateByName('bge', dir)).toEqual(TEMPLATE_PRESETS.bge);
      expect(await templateByName('bge', null)).toEqual(TEMPLATE_PRESETS.bge);
      await expect(templateByName('toString', null)).rejects.toThrow(/no template 'toString'/);
      await expect(templateByName('medical', dir)).rejects.toThrow(
        `no template 'medical': presets are none, e5, bge, nomic, instructor, qwen3, embeddinggemma; ${join(dir, 'templates.json')} holds legal. Fix: give one of those names.`,
      );
      await expect(templateByName('legal', null)).rejects.toThrow('a name saved on the Templates page is found when the data lies inside its project');
    } finally {
      await project.close();
    }
  });
});

describe('previewTemplate', () => {
  it('gives the final text, and with a tokenizer its tokens, the template\'s share and the cut', async () => {
    const tok = await loadTokenizer(BERT_TOK, { maxLength: 9 });
    expect(previewTemplate(TEMPLATE_PRESETS.e5, 'query', CAT)).toEqual({ final: `query: ${CAT}` });
    expect(previewTemplate(TEMPLATE_PRESETS.e5, 'query', CAT, tok)).toEqual({ final: `query: ${CAT}`, tokens: 10, maxLength: 9, truncated: true, templateTokens: 2 });
    expect(previewTemplate(TEMPLATE_PRESETS.e5, 'document', 'a dog', tok, 512)).toEqual({ final: 'passage: a dog', tokens: 6, maxLength: 512, truncated: false, templateTokens: 2 });
    expect(previewTemplate({ query: '<q>{text}</q>', document: '', text: '' }, 'query', 'x').final).toBe('<q>x</q>');
    expect(() => previewTemplate(TEMPLATE_PRESETS.e5, 'passage' as never, 'x')).toThrow(/no template role 'passage'/);
  });
});
