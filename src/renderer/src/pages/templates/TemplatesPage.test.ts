// The Templates page against the fake engine: presets fill every role, edits are kept per
// project, and the preview shows the final text of real rows of the Workbench's dataset with
// token counts from the Workbench's model (or one chosen here, checked by the engine first).
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../../../shared/api.js';
import { button } from '../../testing/dom.js';
import { DIR, JournalEngine, PROJECT, act, control, pairs, settled, setValue, start, stop } from '../data/data-testing.js';

afterEach(stop);

const MODEL = '/home/ada/models/tiny-bert';
const SUMMARY: ModelSummary = {
  dir: MODEL, family: 'bert', hidden: 32, layers: 2, heads: 4, vocabSize: 30522, params: 1_000_000, maxLength: 128, positions: 128,
  pooling: 'mean', normalize: true, prompts: {}, notes: [],
};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the preview's pause in typing and the engine's answer. */
const previewed = async () => {
  await wait(300);
  await settled();
};
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

  it('fills every role from a preset, keeps edits per project, and says when no preset matches', async () => {
    const engine = new JournalEngine();
    await start(engine, '#/templates');
    expect(radio('none').checked).toBe(true);
    await act(() => radio('e5').click());
    expect([control('Query template').value, control('Document template').value, control('Text template').value]).toEqual(['query: ', 'passage: ', 'query: ']);
    await act(() => setValue(control('Document template'), 'passage: {text}'));
    expect(radio('e5').checked).toBe(false);
    expect(document.querySelector('main')!.textContent).toContain('Edited: no preset matches');
    await act(() => setValue(control('Query template'), 'q: {text} {text}'));
    expect(control('Query template').getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('tpl-query-problem')!.textContent).toContain('{text} appears 2 times');
    expect(JSON.parse(localStorage.getItem(`embedsmith.templates.${PROJECT.dir}`)!)).toEqual({ query: 'q: {text} {text}', document: 'passage: {text}', text: 'query: ' });
  });

  it("previews real rows of the Workbench's dataset with the model's token counts", async () => {
    const engine = engineWithData();
    localStorage.setItem(`embedsmith.workbench.${PROJECT.dir}`, JSON.stringify({ dataset: DIR, model: MODEL }));
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

  it('counts nothing without a model, and checks a model folder before it is used', async () => {
    const engine = engineWithData();
    localStorage.setItem(`embedsmith.workbench.${PROJECT.dir}`, JSON.stringify({ dataset: DIR }));
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
