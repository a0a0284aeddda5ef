// Choosing the base model on the Models page: a typed folder or a cached snapshot is described
// by the engine and becomes the Workbench's model; a folder the engine refuses shows its error.
import { describe, expect, it } from 'vitest';
import { act, startApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, type } from '../../testing/dom.js';

useApp();

const SUMMARY = {
  dir: '/m/minilm', family: 'bert', hidden: 384, layers: 6, heads: 12, vocabSize: 30522, params: 22_700_000, loraParamsPerRank: 18432, maxLength: 256, positions: 512,
  pooling: 'mean', normalize: true, prompts: { query: 'query: ' }, notes: [],
};

describe('choosing the base model', () => {
  it('describes a typed folder or a cached snapshot and makes it the base model', async () => {
    const engine = new FakeEngine();
    engine.models.set('/m/minilm', SUMMARY);
    engine.models.set('/cache/snap', { ...SUMMARY, dir: '/cache/snap', layers: 12, prompts: {} });
    engine.models.set('/m/gte-modernbert', { ...SUMMARY, dir: '/m/gte-modernbert', family: 'modernbert', hidden: 768, layers: 22, params: 149_000_000 });
    engine.cachedModels = [{ repo: 'BAAI/bge-small-en-v1.5', revision: 'main', commit: 'a'.repeat(40), dir: '/cache/snap' }];
    engine.projects.set('/p', { dir: '/p', name: 'P', schemaVersion: 1, createdAt: '2026-11-27T00:00:00Z', updatedAt: '2026-11-27T00:00:00Z' });
    await startApp(engine, '#/models');
    await act(() => void engine.openProject('/p'));
    await act(() => type(byLabel('Base model folder'), '/m/minilm'));
    await act(() => button('Use this folder').click());
    const text = () => document.querySelector('[data-testid="model-summary"]')?.textContent ?? '';
    expect(text()).toContain('bert, 6 layers, width 384, 12 heads');
    expect(text()).toContain('22.7 M parameters');
    expect(text()).toContain('256 tokens');
    expect(text()).toContain('mean, L2-normalised');
    expect(text()).toContain('query: "query: "');
    // 22.7 M × 16 bytes of weights, gradients and moments: full fine-tuning, no LoRA advice.
    const advice = () => document.querySelector('[data-testid="fine-tuning-advice"]')!.textContent!;
    expect(advice()).toBe('Full fine-tuning fits: it keeps about 0.3 GiB of weights, gradients and AdamW moments before activations');
    const select = document.getElementById('cached-models') as HTMLSelectElement;
    expect(document.querySelector('label[for="cached-models"]')!.textContent).toBe('From the Hugging Face cache');
    expect(select.textContent).toContain('BAAI/bge-small-en-v1.5@main (aaaaaaa)');
    await act(() => {
      select.value = '/cache/snap';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(text()).toContain('12 layers');
    // The choice is the project's base model for the other pages.
    expect(JSON.parse(localStorage.getItem('embedsmith.workbench./p') ?? '{}')).toMatchObject({ model: '/cache/snap' });
    // A model past 100 M parameters: LoRA is advised, with the state full fine-tuning would need (149 M × 16 B = 2.2 GiB).
    await act(() => type(byLabel('Base model folder'), '/m/gte-modernbert'));
    await act(() => button('Use this folder').click());
    expect(advice()).toMatch(/^LoRA advised \(train --lora 16\): full fine-tuning keeps about 2\.2 GiB/);
    await act(() => type(byLabel('Base model folder'), '/nope'));
    await act(() => button('Use this folder').click());
    expect(document.body.textContent).toContain('That folder cannot be used as a base model');
  });
});
