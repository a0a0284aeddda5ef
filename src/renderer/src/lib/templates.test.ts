// Templates: the presets are the engine's own (src/shared/templates.ts), the store keeps one template per project, and the preview asks the engine with the
// template and without it, dropping answers for a template already edited away.
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../testing/fake-engine.js';
import { TemplatePreview, roleTexts } from './template-preview.svelte.js';
import { TEMPLATE_PRESETS, TemplateStore, presetOf, savedTemplate, templateProblem } from './templates.svelte.js';

beforeEach(() => localStorage.clear());
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('presets', () => {
  it('tells which preset a template is, and none once edited', () => {
    expect(presetOf({ query: 'query: ', document: 'passage: ', text: 'query: ' })).toBe('e5');
    expect(presetOf({ query: 'query: ', document: 'passage:', text: 'query: ' })).toBeNull();
    expect(presetOf({ query: '', document: '', text: '' })).toBe('none');
  });

  it('flags a repeated or misspelt {text}', () => {
    expect(templateProblem('q: {text} {text}')).toContain('{text} appears 2 times');
    expect(templateProblem('q: { Text }')).toContain('exactly as {text}');
    expect(templateProblem('Represent: {text}')).toBeNull();
    expect(templateProblem('query: ')).toBeNull();
  });
});

describe('TemplateStore', () => {
  it('keeps one template per project, saved as it is edited', () => {
    const a = new TemplateStore();
    a.setProject('/p/legal');
    a.usePreset('bge');
    a.set('document', 'doc: {text}');
    expect(a.preset).toBeNull();
    expect(a.forTraining).toEqual({ query: TEMPLATE_PRESETS.bge.query, document: 'doc: {text}' });
    a.setProject('/p/other');
    expect(a.template).toEqual(TEMPLATE_PRESETS.none);
    // A fresh store (another page, a reload) and the Training page's getter read it back.
    const b = new TemplateStore();
    b.setProject('/p/legal');
    expect(b.template.document).toBe('doc: {text}');
    expect(savedTemplate('/p/legal')).toEqual({ query: TEMPLATE_PRESETS.bge.query, document: 'doc: {text}', text: '' });
    expect(savedTemplate(null)).toEqual(TEMPLATE_PRESETS.none);
  });

  it('reads a damaged entry as no template', () => {
    localStorage.setItem('embedsmith.templates./p/x', '{not json');
    expect(savedTemplate('/p/x')).toEqual(TEMPLATE_PRESETS.none);
    localStorage.setItem('embedsmith.templates./p/x', JSON.stringify({ query: 3, document: 'd: ' }));
    expect(savedTemplate('/p/x')).toEqual({ query: '', document: 'd: ', text: '' });
  });
});

describe('TemplatePreview', () => {
  const rows = [
    { index: 0, line: 2, anchor: 'how to reset', positive: 'Open settings', negatives: ['Call us', 'x'], side: 'train' as const },
    { index: 1, line: 3, anchor: 'how to reset', positive: 'Use the link', side: 'train' as const },
  ];

  it('takes queries from anchors and documents from positives and first negatives, once each', () => {
    expect(roleTexts(rows)).toEqual({ query: ['how to reset'], document: ['Open settings', 'Call us', 'Use the link'], text: [] });
  });

  it('counts tokens with the model, with and without the template', async () => {
    const e = new FakeEngine();
    const p = new TemplatePreview(e);
    await p.update({ query: 'query: ', document: '', text: '' }, { query: ['how to reset'], document: [], text: [] }, '/m/bert');
    expect(e.calls.filter((c) => c.method === 'previewTemplate').map((c) => c.args[0])).toEqual([
      { template: 'query: ', texts: ['how to reset'], model: '/m/bert' },
      { template: '', texts: ['how to reset'], model: '/m/bert' },
    ]);
    // The fake counts words + 2: "query: how to reset" is 4 + 2, the bare text 3 + 2.
    expect(p.lines.query).toEqual([{ text: 'how to reset', final: 'query: how to reset', tokens: 6, bareTokens: 5, truncated: false }]);
    expect(p.lines.document).toEqual([]);
  });

  it('previews without counts when there is no model', async () => {
    const e = new FakeEngine();
    const p = new TemplatePreview(e);
    await p.update({ query: 'Q: {text}?', document: '', text: '' }, { query: ['hi'], document: [], text: [] }, null);
    expect(p.lines.query[0]).toMatchObject({ final: 'Q: hi?', tokens: null, bareTokens: null });
    expect(e.calls.filter((c) => c.method === 'previewTemplate')).toHaveLength(1);
  });

  it('drops an answer for a template already edited away', async () => {
    const e = new FakeEngine();
    const gates: (() => void)[] = [];
    const real = e.previewTemplate.bind(e);
    e.previewTemplate = (r) => new Promise((ok) => gates.push(() => ok(real(r))));
    const p = new TemplatePreview(e);
    const texts = { query: ['hi'], document: [], text: [] };
    const first = p.update({ query: 'old: ', document: '', text: '' }, texts, null);
    const second = p.update({ query: 'new: ', document: '', text: '' }, texts, null);
    gates[1]();
    await second;
    gates[0]();
    await first;
    await settle();
    expect(p.lines.query[0].final).toBe('new: hi');
  });
});
