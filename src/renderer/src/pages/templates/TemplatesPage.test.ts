// The Templates page against the fake engine: presets fill every role, edits are saved in the
// project through the engine (and read back after a reload), a template an earlier version
// kept in this browser is moved there once, and the preview shows the final text of real rows of the Workbench's dataset with
// token counts from the Workbench's model (or one chosen here, checked by the engine first).
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../../../shared/api.js';
import { button } from '../../testing/dom.js';
import { DIR, JournalEngine, PROJECT, act, control, pairs, seedChoices, settled, setValue, start, stop } from '../../testing/data-testing.js';

afterEach(stop);

const MODEL = '/home/ada/models/tiny-bert';
const SUMMARY: ModelSummary = {
  dir: MODEL, family: 'bert', hidden: 32, layers: 2, heads: 4, vocabSize: 30522, params: 1_000_000, loraParamsPerRank: 512, maxLength: 128, positions: 128,
  pooling: 'mean', normalize: true, prompts: {}, notes: [],
};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the preview's pause in typing and the engine's answer. */
const previewed = async () => {
  await wait(300);
  await settled();
};
const FILE = `${PROJECT.dir}/templates.json`;
const saveStatus = () => document.querySelector('[data-testid="tpl-save-status"]')!.textContent!.trim();
/** What the page asked the engine to save, as [name, template]. */
const saved = (e: JournalEngine) => e.calls.filter((c) => c.method === 'saveTemplate').filter((c) => (c.args[3] as { active?: boolean })?.active).map((c) => [c.args[1], c.args[2]]);
const radio = (name: string) => document.querySelector<HTMLInputElement>(`input[type="radio"][value="${name}"]`)!;
const previewOf = (role: string) => [...document.querySelectorAll(`ol[aria-label="${role} preview"] li`)].map((li) => li.textContent!.replace(/\s+/g, ' ').trim());

function engineWithData(): JournalEngine {
  const engine = new JournalEngine();
  engine.addDataset(pairs(10));
  engine.models.set(MODEL, SUMMARY);
  return engine;
}

describe('Templates page', () => {
  it('asks for a project first', async () => {
    const engine = new JournalEngine();
    engine.open = null;
    await start(engine, '#/templates');
    expect(document.querySelector('main a[href="#/project"]')).not.toBeNull();
  });

  it('fills every role from a preset, saves edits in the project through the engine, and says when no preset matches', async () => {
    const engine = new JournalEngine();
    await start(engine, '#/templates');
    expect(radio('none').checked).toBe(true);
    expect(saveStatus()).toBe(`Nothing saved yet: the first edit is saved in ${FILE} as ‘default’.`);
    await act(() => radio('e5').click());
    expect([control('Query template').value, control('Document template').value, control('Text template').value]).toEqual(['query: ', 'passage: ', 'query: ']);
    await act(() => setValue(control('Document template'), 'passage: {text}'));
    expect(radio('e5').checked).toBe(false);
    expect(document.querySelector('main')!.textContent).toContain('Edited: no preset matches');
    expect(saveStatus()).toBe(`Saved in ${FILE} as ‘default’.`);
    expect(saved(engine)).toEqual([
      ['default', { query: 'query: ', document: 'passage: ', text: 'query: ' }],
      ['default', { query: 'query: ', document: 'passage: {text}', text: 'query: ' }],
    ]);
    // A rule broken while typing is shown at the field and not sent to the engine.
    await act(() => setValue(control('Query template'), 'q: {text} {text}'));
    expect(control('Query template').getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('tpl-query-problem')!.textContent).toContain('{text} appears 2 times');
    expect(document.getElementById('tpl-query-problem')!.textContent).toContain('Not saved until this is fixed.');
    expect(saveStatus()).toBe('Not saved: fix the query template below.');
    expect(saved(engine)).toHaveLength(2);
    await act(() => setValue(control('Query template'), 'q: {text}'));
    expect(saved(engine).at(-1)).toEqual(['default', { query: 'q: {text}', document: 'passage: {text}', text: 'query: ' }]);
    expect(localStorage.getItem(`embedsmith.templates.${PROJECT.dir}`)).toBeNull();

    // A reload (a fresh app, this browser's storage cleared too) reads it back from the engine.
    stop();
    await start(engine, '#/templates');
    expect([control('Query template').value, control('Document template').value, control('Text template').value]).toEqual(['q: {text}', 'passage: {text}', 'query: ']);
    expect(engine.calls.filter((c) => c.method === 'listTemplates').at(-1)?.args).toEqual([PROJECT.dir]);
    expect(saveStatus()).toBe(`Saved in ${FILE} as ‘default’.`);
  });

  it('moves a template an earlier version kept in this browser into the project once, and says so', async () => {
    const engine = new JournalEngine();
    localStorage.setItem(`embedsmith.templates.${PROJECT.dir}`, JSON.stringify({ query: 'query: ', document: 'passage: ', text: '' }));
    await start(engine, '#/templates');
    expect(saved(engine)).toEqual([['default', { query: 'query: ', document: 'passage: ', text: '' }]]);
    const notice = document.querySelector('[data-testid="tpl-moved"]')!;
    expect(notice.getAttribute('role')).toBe('status');
    expect(notice.textContent!.replace(/\s+/g, ' ')).toContain(`is now in ${FILE} as ‘default’, so the command line and other machines use it too.`);
    expect(control('Document template').value).toBe('passage: ');
    await act(() => button('Dismiss').click());
    expect(document.querySelector('[data-testid="tpl-moved"]')).toBeNull();
    // Once: a reload finds it in the project and neither moves nor announces anything.
    stop();
    await start(engine, '#/templates');
    expect(saved(engine)).toHaveLength(1);
    expect(document.querySelector('[data-testid="tpl-moved"]')).toBeNull();
    expect(control('Query template').value).toBe('query: ');
  });

  it('shows a kept template the engine refuses, and moves it once it is fixed', async () => {
    const engine = new JournalEngine();
    localStorage.setItem(`embedsmith.templates.${PROJECT.dir}`, JSON.stringify({ query: '{text} {text}', document: '', text: '' }));
    await start(engine, '#/templates');
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('could not be moved into it');
    expect(alert.textContent).toContain(`the query template of 'default' ("{text} {text}") is refused`);
    expect(control('Query template').value).toBe('{text} {text}');
    await act(() => setValue(control('Query template'), 'q: {text}'));
    expect(document.querySelector('[role="alert"]')).toBeNull();
    expect(document.querySelector('[data-testid="tpl-moved"]')!.textContent).toContain(FILE);
    expect(saved(engine).at(-1)).toEqual(['default', { query: 'q: {text}', document: '', text: '' }]);
    expect(localStorage.getItem(`embedsmith.templates.${PROJECT.dir}`)).toBeNull();
  });

  it('edits the active one of several saved templates, and switches with the keyboard-reachable list', async () => {
    const engine = new JournalEngine();
    await engine.saveTemplate(PROJECT.dir, 'legal', { query: 'L: ', document: '', text: '' }, { active: true });
    await engine.saveTemplate(PROJECT.dir, 'medical', { query: 'M: ', document: 'MD: ', text: '' });
    await start(engine, '#/templates');
    expect(control('Query template').value).toBe('L: ');
    const list = control<HTMLSelectElement>('Template to edit and train with');
    expect([...list.options].map((o) => o.value)).toEqual(['legal', 'medical']);
    await act(() => setValue(list, 'medical'));
    expect([control('Query template').value, control('Document template').value]).toEqual(['M: ', 'MD: ']);
    expect((await engine.listTemplates(PROJECT.dir)).active).toBe('medical');
    expect(saveStatus()).toBe(`Saved in ${FILE} as ‘medical’.`);
  });

  it("previews real rows of the Workbench's dataset with the model's token counts", async () => {
    const engine = engineWithData();
    seedChoices(PROJECT.dir, { dataset: DIR, model: MODEL });
    await start(engine, '#/templates');
    await act(() => radio('e5').click());
    await previewed();
    expect(engine.calls.find((c) => c.method === 'readDatasetRows')?.args).toEqual([DIR, { offset: 0, limit: 3 }]);
    const calls = engine.calls.filter((c) => c.method === 'previewTemplate').map((c) => c.args[0]);
    expect(calls).toContainEqual({ template: 'query: ', texts: ['question 0', 'question 1', 'question 2'], model: MODEL });
    expect(calls).toContainEqual({ template: 'passage: ', texts: ['answer 0', 'answer 1', 'answer 2'], model: MODEL });
    // The fake counts words + 2 special tokens: "query: question 0" is 5, the bare text 4.
    expect(previewOf('Query')[0]).toBe('query: question 0 5 tokens (+1 from the template)');
    expect(previewOf('Document')[2]).toBe('passage: answer 2 5 tokens (+1 from the template)');
    // A labelled-data role with no texts in a pairs dataset previews the typed sample.
    expect(previewOf('Text')[0]).toBe('query: How do I reset my password? 9 tokens (+1 from the template)');
    expect(document.querySelector('[data-testid="tpl-model-summary"]')!.textContent).toContain('texts over 128 tokens are cut');
    await act(() => button('Other rows').click());
    expect(engine.calls.filter((c) => c.method === 'readDatasetRows').at(-1)?.args).toEqual([DIR, { offset: 3, limit: 3 }]);
  });

  it("suggests the chosen model's own preset: EmbeddingGemma's task prompts", async () => {
    const engine = engineWithData();
    const GEMMA = '/home/ada/models/embeddinggemma';
    engine.models.set(GEMMA, { ...SUMMARY, dir: GEMMA, family: 'gemma3_text', params: 307_600_000 });
    seedChoices(PROJECT.dir, { dataset: DIR, model: GEMMA });
    await start(engine, '#/templates');
    const hint = () => document.querySelector('[data-testid="tpl-suggested"]')?.textContent?.replace(/\s+/g, ' ').trim() ?? null;
    expect(hint()).toBe('The chosen model (gemma3_text) was trained with the embeddinggemma prompts: start from that preset so training and search use them.');
    expect(radio('embeddinggemma').closest('label')!.textContent).toContain('(this model’s)');
    await act(() => radio('embeddinggemma').click());
    expect([control('Query template').value, control('Document template').value]).toEqual(['task: search result | query: ', 'title: none | text: ']);
    expect(hint()).toBeNull(); // followed
  });

  it('counts nothing without a model, and checks a model folder before it is used', async () => {
    const engine = engineWithData();
    seedChoices(PROJECT.dir, { dataset: DIR });
    await start(engine, '#/templates');
    await previewed();
    expect(previewOf('Query')[0]).toBe('question 0');
    expect(document.querySelector('main')!.textContent).toContain('Choose a model folder above to count tokens.');
    await act(() => setValue(control('Model folder'), '/home/ada/not-a-model'));
    await act(() => button('Use this model').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('/home/ada/not-a-model is not a model folder');
    expect(alert.textContent).toContain('NOT_FOUND');
    await act(() => setValue(control('Model folder'), MODEL));
    await act(() => button('Use this model').click());
    await previewed();
    expect(JSON.parse(localStorage.getItem(`embedsmith.workbench.${PROJECT.dir}`)!).model).toBe(MODEL);
    expect(previewOf('Query')[0]).toBe('question 0 4 tokens (+0 from the template)');
  });
});
