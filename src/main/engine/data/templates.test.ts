import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../tokenize/tokenizer.js';
import { createProject } from '../workspace/project.js';
import { TEMPLATE_PRESETS, applyRoleTemplate, applyTemplate, loadTemplates, previewTemplate, saveTemplate, templateToPrompts } from './templates.js';

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
