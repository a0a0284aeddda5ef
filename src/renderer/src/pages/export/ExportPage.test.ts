// The Export page against the fake engine: the trained model by default, formats, the
// destination that follows the model until the user types one, the export job with its
// files and the path to copy, the model summary as the card preview, and errors with the
// engine's message.
import { describe, expect, it, vi } from 'vitest';
import type { ExportRequest, ModelSummary, ProjectInfo } from '../../../../shared/api.js';
import { act, goTo, seedChoices, startApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, queryButton, type } from '../../testing/dom.js';

const PROJECT: ProjectInfo = { dir: '/p/legal', name: 'Legal', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const TRAINED = '/p/legal/runs/contracts-v2/model';
const BASE = '/hf/models--BAAI--bge-small-en-v1.5/snapshots/abc';
const SUMMARY: ModelSummary = {
  dir: TRAINED, family: 'bert', hidden: 384, layers: 12, heads: 12, vocabSize: 30522, params: 33_360_000, loraParamsPerRank: 36864, maxLength: 512, positions: 512,
  pooling: 'cls', normalize: true, prompts: { query: 'Represent this sentence for searching relevant passages: ' }, notes: ['pooling from modules.json'],
};


function engineWithProject(): { engine: FakeEngine; requests: ExportRequest[] } {
  const engine = new FakeEngine();
  engine.projects.set(PROJECT.dir, PROJECT);
  engine.open = PROJECT;
  engine.models.set(TRAINED, SUMMARY);
  engine.models.set(BASE, { ...SUMMARY, dir: BASE, notes: [] });
  const requests: ExportRequest[] = [];
  const original = engine.exportModel.bind(engine);
  engine.exportModel = (r) => (requests.push(r), original(r));
  return { engine, requests };
}

function start(engine: FakeEngine, choices: object = { model: BASE, trained: TRAINED }, hash = '#/export'): Promise<HTMLElement> {
  seedChoices(PROJECT.dir, choices);
  return startApp(engine, hash, 2);
}

const checkbox = (name: string) => [...document.querySelectorAll('label.check')].find((l) => l.textContent!.includes(name))!.querySelector('input')!;
const main = () => document.querySelector('main')!.textContent!.replace(/\s+/g, ' ');
const exportJob = (engine: FakeEngine) => [...engine.jobs.values()].filter((j) => j.kind === 'export').at(-1)!;

useApp();

describe('Export page', () => {
  it('exports the trained model into PROJECT/export/<run> and shows the folder to copy', async () => {
    const { engine, requests } = engineWithProject();
    await start(engine);
    expect(byLabel('Model folder to export').value).toBe(TRAINED);
    expect(byLabel('Destination folder').value).toBe('/p/legal/export/contracts-v2');
    expect(checkbox('sentence-transformers folder').checked).toBe(true);
    expect(checkbox('ONNX (fp32)').checked).toBe(true);
    expect(checkbox('ONNX (fp16)').checked).toBe(false);
    await act(() => checkbox('ONNX (fp16)').click());
    await act(() => button('Export').click());
    expect(requests).toEqual([{ model: TRAINED, out: '/p/legal/export/contracts-v2', formats: ['sentence-transformers', 'onnx', 'fp16'] }]);
    expect(document.querySelector('[data-testid="export-job"]')!.getAttribute('data-state')).toBe('queued');
    expect(button('Export').disabled).toBe(true);
    const out = '/p/legal/export/contracts-v2';
    await act(() =>
      engine.progressJob(exportJob(engine).jobId, {
        state: 'done', fraction: 1, message: `Wrote ${out}`,
        result: { dir: out, files: [`${out}/model.safetensors`, `${out}/onnx/model.onnx`, `${out}/onnx/model_fp16.onnx`] },
      }),
    );
    expect(byLabel('Exported folder').value).toBe(out);
    expect([...document.querySelectorAll('[aria-label="Files written"] li')].map((li) => li.textContent)).toEqual(['model.safetensors', 'onnx/model.onnx', 'onnx/model_fp16.onnx']);
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await act(() => button('Copy path').click());
    expect(writeText).toHaveBeenCalledWith(out);
    expect(main()).toContain('Path copied.');
  });

  it("previews the model's summary as the card, and says why it is not the README", async () => {
    const { engine } = engineWithProject();
    await start(engine);
    expect(engine.calls.filter((c) => c.method === 'describeModel').map((c) => c.args[0])).toEqual([TRAINED]);
    const card = document.querySelector('[data-testid="model-card"]')!.textContent!.replace(/\s+/g, ' ');
    expect(card).toContain('bert, 12 layers, hidden size 384, 12 heads');
    expect(card).toContain('33.4 M (encoder)');
    expect(card).toContain('cls, normalized');
    expect(card).toContain('Represent this sentence for searching relevant passages:');
    expect(card).toContain('pooling from modules.json');
    expect(main()).toContain('the README.md written into the exported folder is not readable from here');
    await act(() => button('Use the base model').click());
    expect(byLabel('Model folder to export').value).toBe(BASE);
    expect(byLabel('Destination folder').value).toBe('/p/legal/export/bge-small-en-v1-5');
    expect(engine.calls.filter((c) => c.method === 'describeModel').at(-1)!.args[0]).toBe(BASE);
    // A folder that is not a model: the engine's message in the card.
    const field = byLabel('Model folder to export');
    await act(() => {
      type(field, '/p/legal/datasets');
      field.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const alert = document.querySelector('#card-title')!.closest('section')!.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('/p/legal/datasets is not a model folder');
    expect(alert.textContent).toContain('NOT_FOUND');
  });

  it('keeps a typed destination until asked for the suggestion, and needs a format', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => type(byLabel('Destination folder'), '/mnt/share/contracts'));
    await act(() => button('Use the base model').click());
    expect(byLabel('Destination folder').value).toBe('/mnt/share/contracts');
    await act(() => button('Use the suggested folder').click());
    expect(byLabel('Destination folder').value).toBe('/p/legal/export/bge-small-en-v1-5');
    for (const f of ['sentence-transformers folder', 'ONNX (fp32)']) await act(() => checkbox(f).click());
    expect(button('Export').disabled).toBe(true);
    expect(main()).toContain('Choose at least one format.');
  });

  it("shows a failed export's engine message, and follows the job from another page", async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => button('Export').click());
    await act(() =>
      engine.failJob(exportJob(engine).jobId, { code: 'ALREADY_EXISTS', message: '/p/legal/export/contracts-v2 already exists and is not empty; choose a new folder' }),
    );
    const alert = document.querySelector('[data-testid="export-job"] [role="alert"]')!;
    expect(alert.textContent).toContain('Export failed');
    expect(alert.textContent).toContain('choose a new folder');
    expect(alert.textContent).toContain('ALREADY_EXISTS');
    await act(() => button('Export').click());
    const id = exportJob(engine).jobId;
    goTo('#/evaluate');
    await act(() => engine.progressJob(id, { state: 'done', fraction: 1, message: 'Wrote it', result: { dir: '/p/legal/export/contracts-v2', files: [] } }));
    goTo('#/export');
    await act(() => {});
    expect(byLabel('Exported folder').value).toBe('/p/legal/export/contracts-v2');
    expect(queryButton('Cancel export')).toBeNull();
  });
});
