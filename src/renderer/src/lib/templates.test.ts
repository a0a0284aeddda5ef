// Templates: the presets are the engine's own (src/shared/templates.ts); the store keeps the
// project's template in its templates.json through the engine (a template an earlier build kept
// in localStorage is moved there once); the preview asks the engine with the template and
// without it, dropping answers for a template already edited away.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ProjectInfo } from '../../../shared/api.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { TemplatePreview, roleTexts } from '../pages/templates/template-preview.svelte.js';
import { TEMPLATE_PRESETS, TemplateStore, loadProjectTemplate, presetOf, templateProblem } from './templates.svelte.js';

beforeEach(() => localStorage.clear());
const settle = () => new Promise((r) => setTimeout(r, 0));

const project = (dir: string): ProjectInfo => ({ dir, name: dir.split('/').pop()!, schemaVersion: 1, createdAt: '', updatedAt: '' });
function engineWith(...dirs: string[]): FakeEngine {
  const e = new FakeEngine();
  for (const d of dirs) e.projects.set(d, project(d));
  return e;
}
const saves = (e: FakeEngine) => e.calls.filter((c) => c.method === 'saveTemplate').map((c) => c.args);

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
  it('saves each edit to the project through the engine, and a fresh store reads it back', async () => {
    const e = engineWith('/p/legal', '/p/other');
    const a = new TemplateStore(e);
    await a.setProject('/p/legal');
    expect(a.template).toEqual(TEMPLATE_PRESETS.none);
    a.usePreset('bge');
    a.set('document', 'doc: {text}');
    await settle();
    expect(a.preset).toBeNull();
    expect(a.forTraining).toEqual({ query: TEMPLATE_PRESETS.bge.query, document: 'doc: {text}' });
    // The first edit goes out at once; the second waits for it (and would replace a third).
    expect(saves(e)).toEqual([
      ['/p/legal', 'default', TEMPLATE_PRESETS.bge, { active: true }],
      ['/p/legal', 'default', { ...TEMPLATE_PRESETS.bge, document: 'doc: {text}' }, { active: true }],
    ]);
    expect(a.saved).toEqual({ file: '/p/legal/templates.json', active: 'default', templates: [{ name: 'default', template: { ...TEMPLATE_PRESETS.bge, document: 'doc: {text}' } }] });
    await a.setProject('/p/other');
    expect(a.template).toEqual(TEMPLATE_PRESETS.none);
    // A fresh store (another page, a reload) and the Training page's read get it back from the engine.
    const b = new TemplateStore(e);
    await b.setProject('/p/legal');
    expect(b.template.document).toBe('doc: {text}');
    expect((await loadProjectTemplate(e, '/p/legal')).template).toEqual({ query: TEMPLATE_PRESETS.bge.query, document: 'doc: {text}', text: '' });
    expect(localStorage.length).toBe(0);
  });

  it('keeps an edit that breaks a rule on the page, unsaved, until it is fixed', async () => {
    const e = engineWith('/p/x');
    const s = new TemplateStore(e);
    await s.setProject('/p/x');
    s.set('query', 'q: {text} {text}');
    await settle();
    expect(s.problem).toEqual({ role: 'query', problem: expect.stringContaining('{text} appears 2 times') });
    expect(saves(e)).toEqual([]);
    s.set('query', 'q: {text}');
    await settle();
    expect(s.problem).toBeNull();
    expect(saves(e)).toEqual([['/p/x', 'default', { query: 'q: {text}', document: '', text: '' }, { active: true }]]);
  });

  it('edits the active template the CLI or another machine saved, and can switch to another saved one', async () => {
    const e = engineWith('/p/x');
    await e.saveTemplate('/p/x', 'legal', { query: 'L: ', document: '', text: '' }, { active: true });
    await e.saveTemplate('/p/x', 'medical', { query: 'M: ', document: '', text: '' });
    const s = new TemplateStore(e);
    await s.setProject('/p/x');
    expect([s.name, s.template.query]).toEqual(['legal', 'L: ']);
    s.useSaved('medical');
    await settle();
    expect([s.name, s.template.query, s.saved?.active]).toEqual(['medical', 'M: ', 'medical']);
    s.set('document', 'D: ');
    await settle();
    expect(saves(e).at(-1)).toEqual(['/p/x', 'medical', { query: 'M: ', document: 'D: ', text: '' }, { active: true }]);
  });

  it('says what the engine refused, and reads a project it cannot find as an error', async () => {
    const e = engineWith('/p/x');
    const s = new TemplateStore(e);
    await s.setProject('/nowhere');
    expect(s.error).toMatchObject({ code: 'NOT_FOUND' });
    await s.setProject('/p/x');
    expect(s.error).toBeNull();
    s.usePreset('e5');
    e.saveTemplate = async () => {
      throw new Error('disk full');
    };
    s.set('query', 'other: ');
    await settle();
    await settle();
    expect(s.error).toMatchObject({ code: 'INTERNAL', message: 'disk full' });
  });
});

describe('moving a template from this browser into the project', () => {
  const KEY = 'embedsmith.templates./p/legal';

  it('saves it once when templates.json has none, forgets it here, and says so', async () => {
    localStorage.setItem(KEY, JSON.stringify({ query: 'query: ', document: 'passage: ', text: '' }));
    const e = engineWith('/p/legal');
    const s = new TemplateStore(e);
    await s.setProject('/p/legal');
    expect(saves(e)).toEqual([['/p/legal', 'default', { query: 'query: ', document: 'passage: ', text: '' }, { active: true }]]);
    expect(s.moved).toEqual({ ok: true, name: 'default', file: '/p/legal/templates.json' });
    expect(s.template.document).toBe('passage: ');
    expect(localStorage.getItem(KEY)).toBeNull();
    // Once: the next read finds it in the project and moves nothing.
    const again = await loadProjectTemplate(e, '/p/legal');
    expect([again.moved, again.template.query, saves(e).length]).toEqual([null, 'query: ', 1]);
  });

  it('moves nothing when the project already has templates, or the entry is empty or damaged', async () => {
    const e = engineWith('/p/legal', '/p/empty', '/p/bad');
    await e.saveTemplate('/p/legal', 'cli', { query: 'c: ', document: '', text: '' });
    localStorage.setItem(KEY, JSON.stringify({ query: 'query: ', document: '', text: '' }));
    localStorage.setItem('embedsmith.templates./p/empty', JSON.stringify({ query: '', document: '', text: '' }));
    localStorage.setItem('embedsmith.templates./p/bad', '{not json');
    for (const dir of ['/p/legal', '/p/empty', '/p/bad']) {
      const r = await loadProjectTemplate(e, dir);
      expect([dir, r.moved, r.template]).toEqual([dir, null, TEMPLATE_PRESETS.none]);
    }
    expect(saves(e)).toHaveLength(1); // the test's own
    // No active template and 'cli' saved: the page's edits go to a fresh 'default'.
    expect((await loadProjectTemplate(e, '/p/legal')).name).toBe('default');
    expect(localStorage.getItem(KEY)).not.toBeNull();
  });

  it('keeps one the engine refuses, shows it to fix, and saves and forgets it once fixed', async () => {
    localStorage.setItem(KEY, JSON.stringify({ query: 'q: {text} {text}', document: '', text: '' }));
    const e = engineWith('/p/legal');
    const s = new TemplateStore(e);
    await s.setProject('/p/legal');
    expect(s.moved).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining("the query template of 'default'") } });
    expect(s.template.query).toBe('q: {text} {text}');
    expect(s.problem?.role).toBe('query');
    expect(localStorage.getItem(KEY)).not.toBeNull();
    s.set('query', 'q: {text}');
    await settle();
    expect(s.moved).toEqual({ ok: true, name: 'default', file: '/p/legal/templates.json' });
    expect(localStorage.getItem(KEY)).toBeNull();
    expect((await e.listTemplates('/p/legal')).templates).toEqual([{ name: 'default', template: { query: 'q: {text}', document: '', text: '' } }]);
  });

  it('lets a read wait for saves still on their way, so the Training page sees the last edit', async () => {
    const e = engineWith('/p/x');
    const gates: (() => void)[] = [];
    const real = e.saveTemplate.bind(e);
    e.saveTemplate = (...a) => new Promise((ok) => gates.push(() => ok(real(...a))));
    const s = new TemplateStore(e);
    await s.setProject('/p/x');
    s.set('query', 'first: ');
    s.set('query', 'last: ');
    const read = loadProjectTemplate(e, '/p/x');
    await settle();
    gates.shift()!();
    await settle();
    gates.shift()!();
    expect((await read).template.query).toBe('last: ');
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
