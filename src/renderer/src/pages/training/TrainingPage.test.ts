// The Training page against the fake engine: presets, the pre-flight figures, the request it
// sends, the run folder polled while the job runs and drawn as curves, stop and resume, and
// errors as the engine words them.
import { describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import { EngineError, type DatasetSummary, type ProjectInfo, type TrainRequest } from '../../../../shared/api.js';
import { act as actThen, seedChoices, startApp, useApp } from '../../testing/app.js';
import { registerTrainSetting } from '../../../../shared/train-settings.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, type } from '../../testing/dom.js';

const P = '/home/ada/support';
const MINED = `${P}/datasets/faq-mined`;
const RUN = `${P}/runs/faq-mined-balanced`;
const project: ProjectInfo = { dir: P, name: 'Support', schemaVersion: 1, createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z' };
const mined: DatasetSummary = {
  dir: MINED, name: 'faq-mined', format: 'triplets', rows: 50, skipped: 0, warnings: 2, labels: null, mined: true, split: { train: 40, eval: 10 }, createdAt: '2026-11-01T00:00:00Z',
};
const config = (more: Record<string, unknown> = {}) => ({
  model: '/models/mini', data: MINED, eval: MINED, epochs: 1, maxSteps: null, batchSize: 32, lr: 2e-5, warmup: 0.1, schedule: 'linear', weightDecay: 0.01,
  temperature: 0.05, maxLength: 128, dropout: null, seed: 42, shuffle: true, negatives: null, maxGradNorm: 1, evalEvery: 1, metric: 'ndcg@10', patience: 0,
  checkpointEvery: 0, keepCheckpoints: 2, device: 'auto', template: { query: '', document: '' }, threads: 16, ...more,
});
const step = (n: number, extra: Record<string, unknown> = {}) => ({ step: n, epoch: 0, loss: 2 - n * 0.3, lr: 1e-5 * n, gradNorm: 0.8, pairsPerSec: 30 + n, ...extra });


function setUp(): FakeEngine {
  const engine = new FakeEngine();
  engine.projects.set(P, project);
  engine.open = project;
  engine.datasets = [mined];
  engine.datasetDetails.set(MINED, { summary: mined, issues: [], issueCounts: { DUPLICATE: 2 }, miningReport: null, history: [] });
  engine.datasetRows.set(MINED, [
    { index: 0, line: 2, side: 'train', anchor: 'reset my password', positive: 'Reset it from Settings', negatives: ['a b', 'c d', 'e f'] },
    { index: 1, line: 3, side: 'eval', anchor: 'refund', positive: 'Refunds take five working days to arrive', negatives: ['g'] },
  ]);
  // As the engine plans it: the mined negatives keep rows apart, so three times rows / batch (issue 15 §6).
  engine.plans.set(MINED, (r) => ({ examples: 40, heldOut: 10, negativesPerQuery: 3, steps: 3 * Math.ceil(40 / r.batchSize) * r.epochs }));
  engine.models.set('/models/mini', { dir: '/models/mini', family: 'bert', hidden: 32, layers: 1, heads: 4, vocabSize: 100, params: 1_000_000, loraParamsPerRank: 256, maxLength: 128, positions: 128, pooling: 'mean', normalize: true, prompts: {}, notes: [] });
  seedChoices(P, { model: '/models/mini', mined: MINED });
  return engine;
}

const start = (engine: FakeEngine) => startApp(engine, '#/training', 3);
const act = (f: () => unknown) => actThen(f, 3);
const main = () => document.querySelector('main')!.textContent!.replace(/\s+/g, ' ');
const radio = (name: string) => [...document.querySelectorAll<HTMLInputElement>('input[type=radio]')].find((r) => r.closest('label')!.textContent!.includes(name))!;
const chart = (title: string) => document.querySelector(`svg[aria-label^="${title}:"]`);
const saved = () => JSON.parse(localStorage.getItem(`embedsmith.workbench.${P}`)!) as Record<string, string | null>;
const reads = (engine: FakeEngine) => engine.calls.filter((c) => c.method === 'readRun').length;
const lastJob = (engine: FakeEngine) => [...engine.jobs.keys()].at(-1)!;

function recordTrains(engine: FakeEngine): TrainRequest[] {
  const seen: TrainRequest[] = [];
  const train = engine.trainModel.bind(engine);
  engine.trainModel = (r) => (seen.push(r), train(r));
  return seen;
}

/** Waits (in real time: the page polls every second) until the check passes. */
const eventually = (check: () => void) =>
  vi.waitFor(
    () => {
      flushSync();
      check();
    },
    { timeout: 3000, interval: 100 },
  );

useApp();

describe('Training page: settings and pre-flight', () => {
  it('starts from the mined dataset with the balanced preset; presets fill the fields', async () => {
    await start(setUp());
    expect((document.getElementById('train-dataset') as HTMLSelectElement).value).toBe(MINED);
    expect(radio('Balanced').checked).toBe(true);
    expect([byLabel('Batch size').value, byLabel('Learning rate').value, byLabel('Max length').value]).toEqual(['32', '0.00002', '128']);
    expect(byLabel('Run name').value).toBe('faq-mined-balanced');
    await act(() => radio('Quick').click());
    expect([byLabel('Epochs').value, byLabel('Batch size').value, byLabel('Learning rate').value, byLabel('Max length').value]).toEqual(['1', '16', '0.00005', '64']);
    expect(byLabel('Run name').value).toBe('faq-mined-quick');
    await act(() => type(byLabel('Batch size'), '24'));
    expect(radio('Quick').checked).toBe(false);
    expect(main()).toContain('Custom: the settings below no longer match a preset.');
  });

  it('trains LoRA adapters for a model above 100 M parameters, and says what they cost', async () => {
    const engine = setUp();
    const sent = recordTrains(engine);
    // EmbeddingGemma-300m's shape: 307.6 M parameters; 24 layers of q, k, v, o (768 ↔ 768/256) and the MLP.
    engine.models.set('/models/big', { dir: '/models/big', family: 'gemma3_text', hidden: 768, layers: 24, heads: 3, vocabSize: 262144, params: 307_600_000, loraParamsPerRank: 490_000, maxLength: 2048, positions: 2048, pooling: 'mean', normalize: true, prompts: {}, notes: [] });
    seedChoices(P, { model: '/models/big', mined: MINED });
    await start(engine);
    expect(radio('Balanced').checked).toBe(true);
    expect(byLabel('LoRA rank').value).toBe('16');
    expect(main()).toContain('This model has 308 M parameters: the presets train LoRA adapters of rank 16 (7.8 M parameters)');
    expect(main()).toContain('LoRA rank 16: 7.8 M adapter parameters train, the other 300 M stay frozen');
    await act(() => button('Start training').click());
    expect(sent.at(-1)?.settings?.lora).toBe(16);
    // Cleared, the run trains every weight and the form no longer matches a preset.
    await act(() => type(byLabel('LoRA rank'), ''));
    expect(radio('Balanced').checked).toBe(false);
    expect(main()).toContain('for weights, gradients, Adam and the runtime');
  });

  it('shows the advanced settings of the table (and one registered at run time); a changed one is sent, a bad one named', async () => {
    const unregister = registerTrainSetting({
      key: 'dummyKnob', flag: 'dummy-knob', kind: 'int', default: 3, resume: 'match', range: { min: 1, max: 9, integer: true, why: 'a dummy' },
      help: 'a dummy', doc: 'A setting only this test knows.', ui: { label: 'Dummy knob', group: 'Test', advanced: true },
    });
    try {
      const engine = setUp();
      const sent = recordTrains(engine);
      await start(engine);
      expect(document.querySelector('details.advanced summary')!.textContent).toBe('Advanced settings');
      const loss = document.getElementById('train-loss') as HTMLSelectElement;
      // The engine's losses; the dataset is triplets, so InfoNCE fits.
      expect([...loss.options].filter((o) => !o.disabled).map((o) => o.value)).toEqual(['auto', 'infonce']);
      await act(() => {
        loss.value = 'infonce';
        loss.dispatchEvent(new Event('change', { bubbles: true }));
      });
      expect(byLabel('Dummy knob').value).toBe('3');
      await act(() => type(byLabel('Dummy knob'), '12'));
      expect(main()).toContain('Dummy knob must be a whole number at least 1 and at most 9, e.g. 3.');
      expect(button('Start training').disabled).toBe(true);
      await act(() => type(byLabel('Dummy knob'), '7'));
      await act(() => type(byLabel('Matryoshka widths'), '32,16'));
      await act(() => button('Start training').click());
      expect(sent[0].settings).toMatchObject({ loss: 'infonce', dummyKnob: 7, matryoshka: [32, 16] });
      // Advanced ones left at their default stay out of the request.
      expect(sent[0].settings).not.toHaveProperty('symmetric');
    } finally {
      unregister();
    }
  });

  it('says so when the chosen dataset cannot be read, instead of an empty pre-flight', async () => {
    const engine = setUp();
    engine.datasetDetails.delete(MINED); // the fake engine answers NOT_FOUND for it
    await start(engine);
    expect(main()).toContain('The dataset cannot be read');
  });

  it("says why a pre-flight figure is an estimate or missing when the engine's plan or token count fails", async () => {
    const engine = setUp();
    engine.planTraining = async () => {
      throw new EngineError('HOST_CRASHED', 'the engine host stopped (exit code 1); try again');
    };
    engine.previewTemplate = async () => {
      throw new EngineError('NOT_FOUND', '/models/mini has no tokenizer.json');
    };
    await start(engine);
    expect(main()).toContain('about 2 steps of up to 32. (The engine could not plan the run, so this is an estimate: the engine host stopped (exit code 1); try again)');
    expect(main()).toContain('Check · Text length: The texts could not be counted with the model’s tokenizer: /models/mini has no tokenizer.json');
  });

  it('checks rows and steps, text lengths, duplicates and memory before the run', async () => {
    const engine = setUp();
    await start(engine);
    // The engine's plan, not rows / batch (2): 6 steps, and 3 evaluations at ceil(6 / 5) = 2.
    expect(main()).toContain(
      "OK · Rows and steps: 40 training rows (10 held out for evaluation): 6 steps of up to 32. Batches average 6.7 rows: a row whose mined negative is another row's positive",
    );
    expect(main()).toContain('Evaluates 3 times (every 2 steps and at the end).');
    // The model (32 wide, max length 128) against the form: 2e-5 is far below its width's 2e-3.
    expect(main()).toContain("Check · Model fit: A 32-wide model trains best near learning rate 0.002 (the engine's default for its width); 0.00002 is far lower: it may barely move.");
    expect(engine.calls.filter((c) => c.method === 'planTraining').at(-1)!.args).toEqual([{ dataset: MINED, batchSize: 32, epochs: 1, maxSteps: null, seed: 42, evalEvery: null }]);
    expect(main()).toContain('Check · Duplicates: 2 rows repeat another');
    // 1,000,000 × 58 + 400 MB = 458 MB; 160 texts × 128 tokens × 1 layer × (32 × 31 + 4 heads × 128 × 29) = 324,403,200 B = 324 MB.
    expect(main()).toContain('About 782 MB for a step: 458 MB for weights, gradients, Adam and the runtime, and 324 MB of activations (batch 32 × 5 texts × 128 tokens, 1 layer;');
    expect(main()).toContain('OK · Text length: 0 of 8 texts in the first 2 rows are longer than 128 tokens');
    // 5 + 3 texts in the two rows; the fake tokenizer counts words + 2: the 7-word positive is 9.
    await act(() => type(byLabel('Max length'), '8'));
    expect(main()).toContain('Check · Text length: 1 of 8 texts in the first 2 rows are longer than 8 tokens and will be cut (longest 9).');
    await act(() => type(byLabel('Max length'), '256'));
    expect(main()).toContain('Max length 256 is longer than the 128 tokens the model was trained with: positions past 128 were never trained');
    await act(() => type(byLabel('Batch size'), '64'));
    expect(main()).toContain('Check · Rows and steps: 40 training rows (10 held out for evaluation): 3 steps of up to 64.');
    expect(main()).toContain('The batch is bigger than the data');
  });
});

describe('Training page: what it says before and while a run exists', () => {
  it('asks for a dataset (not a split) when none is chosen, and never says "no runs" while one trains', async () => {
    const engine = setUp();
    engine.datasets = [];
    seedChoices(P, { model: '/models/mini' });
    await start(engine);
    expect(main()).toContain('Choose a dataset to train on first: evaluation uses its held-out rows.');
    expect(main()).not.toContain('split it on the Data page');
    const runs = () => [...document.querySelectorAll<HTMLOptionElement>('#train-show-run option')].map((o) => o.textContent!.trim());
    expect(runs()).toEqual(['No runs in this project yet']);
    // A run started (from here or the command line's project): the list does not claim there is none.
    engine.datasets = [mined];
    await act(() => engine.trainModel({ model: '/models/mini', dataset: MINED, out: RUN }));
    await act(() => engine.progressJob(lastJob(engine), { state: 'running', message: 'step 1/2' }));
    expect(runs()).not.toContain('No runs in this project yet');
    expect(runs()).toContain('faq-mined-balanced — training…');
  });
});

describe('Training page: a run', () => {
  it('trains, polls the run folder while the job runs, draws the curves and takes up the model', async () => {
    const engine = setUp();
    const sent = recordTrains(engine);
    // As the Templates page saves it (lib/templates.svelte.ts): in the project, through the engine.
    await engine.saveTemplate(P, 'default', { query: 'query: ', document: 'passage: ', text: '' }, { active: true });
    await start(engine);
    expect(engine.calls.find((c) => c.method === 'listTemplates')?.args).toEqual([P]);
    expect(document.querySelector('[data-testid="train-template"]')!.textContent).toContain('Template ‘default’ (from the Templates page): queries query: , documents passage:');
    await act(() => button('Start training').click());
    expect(sent).toEqual([
      {
        model: '/models/mini', dataset: MINED, out: RUN,
        // The engine plans 6 steps (not rows / batch = 2) → evaluate every ceil(6 / 5) = 2 steps, on the held-out rows.
        settings: {
          epochs: 1, maxSteps: null, batchSize: 32, lr: 2e-5, maxLength: 128, warmup: 0.1, seed: 42, device: 'auto', precision: 'fp32', checkpointEvery: 0, eval: MINED, evalEvery: 2,
          template: { query: 'query: ', document: 'passage: ' },
        },
      },
    ]);
    expect(saved().run).toBe(RUN);
    const jobId = lastJob(engine);
    expect(main()).toContain('Training faq-mined-balanced waits for the device');
    expect(button('Start training').disabled).toBe(true);

    engine.runs.set(RUN, { dir: RUN, config: config(), metrics: [step(1)], checkpoints: [], modelDir: null });
    await act(() => engine.progressJob(jobId, { state: 'running', done: 1, total: 2, unit: 'steps', fraction: 0.5, etaSeconds: 3, message: 'step 1/2 · loss 1.7000' }));
    expect(document.querySelector('[data-testid="train-stats"]')!.textContent).toBe('step 1 of 2 · 50% · about 3 s left');
    await eventually(() => expect(chart('Loss')?.getAttribute('data-points')).toBe('1'));
    expect(main()).toContain('Device: automatic: CUDA if it works, else WebGPU, else the CPU');
    engine.runs.set(RUN, { dir: RUN, config: config(), metrics: [step(1, { eval: { 'ndcg@10': 0.4 } }), step(2, { eval: { 'ndcg@10': 0.5 } })], checkpoints: [], modelDir: null });
    await eventually(() => expect(chart('Loss')?.getAttribute('data-points')).toBe('2'));
    expect(chart('Learning rate')!.getAttribute('aria-label')).toBe('Learning rate: 2 points, latest 2e-5 at step 2');
    expect(chart('Gradient norm')!.getAttribute('data-points')).toBe('2');
    expect(chart('Throughput (pairs/s)')!.getAttribute('aria-label')).toBe('Throughput (pairs/s): 2 points, latest 32.0 at step 2');
    expect(chart('Evaluation: ndcg@10')!.getAttribute('aria-label')).toBe('Evaluation: ndcg@10: 2 points, latest 0.5000 at step 2');
    expect(chart('Evaluation: ndcg@10')!.querySelectorAll('circle')).toHaveLength(2);

    engine.runs.set(RUN, { ...engine.runs.get(RUN)!, modelDir: `${RUN}/model`, checkpoints: [2] });
    await act(() =>
      engine.emitJob({ ...engine.jobs.get(jobId)!, state: 'done', done: 2, fraction: 1, message: 'Trained 2 steps', result: { runDir: RUN, modelDir: `${RUN}/model`, steps: 2, totalSteps: 2, finalLoss: 1.4, best: { metric: 'ndcg@10', value: 0.5, step: 2 }, device: 'cpu', deviceReason: 'cpu was asked for' } }),
    );
    expect(saved().trained).toBe(`${RUN}/model`);
    expect(byLabel('Trained model folder').value).toBe(`${RUN}/model`);
    expect(main()).toContain('2 steps, final loss 1.4000; best ndcg@10 0.5000 at step 2');
    expect(main()).toContain('Device: CPU — cpu was asked for.');
    const after = reads(engine);
    await new Promise((r) => setTimeout(r, 1300));
    expect(reads(engine)).toBe(after); // polling stopped with the job
  });

  it('offers the engine’s losses (EngineInfo) for the dataset’s format, and plans and trains with the one picked', async () => {
    const engine = setUp();
    const sent = recordTrains(engine);
    await start(engine);
    const picker = document.getElementById('train-loss') as HTMLSelectElement;
    const options = [...picker.options].map((o) => [o.value, o.textContent!.trim(), o.disabled]);
    // The fake engine's two losses; the mined dataset is triplets: Automatic is InfoNCE, SupCon takes labelled texts only.
    expect(options).toEqual([['auto', 'Automatic (InfoNCE)', false], ['infonce', 'InfoNCE', false], ['supcon', 'SupCon (not for this dataset)', true]]);
    expect(picker.closest('.field')!.textContent).toContain('InfoNCE for triplets data: in-batch and mined negatives (van den Oord et al. 2018).');
    await act(() => {
      picker.value = 'infonce';
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(() => button('Start training').click());
    expect(sent[0].settings).toMatchObject({ loss: 'infonce' });
    expect(engine.calls.filter((c) => c.method === 'planTraining').at(-1)?.args[0]).toMatchObject({ loss: 'infonce' });
  });

  it('stops through the engine and resumes with the run’s own settings', async () => {
    const engine = setUp();
    const sent = recordTrains(engine);
    await start(engine);
    await act(() => button('Start training').click());
    const jobId = lastJob(engine);
    engine.runs.set(RUN, { dir: RUN, config: config({ device: 'cpu', maxSteps: 6 }), metrics: [step(1)], checkpoints: [1], modelDir: null });
    await act(() => engine.progressJob(jobId, { state: 'running', done: 1, total: 6, fraction: 1 / 6 }));
    await act(() => button('Stop training').click());
    expect(engine.calls.find((c) => c.method === 'cancel')?.args).toEqual([jobId]);
    await eventually(() => expect(main()).toContain('Stopped at step 1, checkpoint at step 1.'));
    expect(main()).toContain('Device: CPU, as the run asked.');
    await act(() => button('Resume training').click());
    expect(sent[1]).toMatchObject({ model: '/models/mini', dataset: MINED, out: RUN, resume: true, settings: { device: 'cpu', maxSteps: 6, eval: MINED, evalEvery: 1, template: { query: '', document: '' } } });
    expect(sent[1].settings).not.toHaveProperty('threads');
    expect(document.activeElement).toBe(button('Stop training'));
  });

  it('shows an earlier run picked from the list, and makes it the workbench’s', async () => {
    const engine = setUp();
    const old = `${P}/runs/first`;
    engine.runs.set(old, {
      dir: old, config: config(), metrics: [step(1), step(2, { eval: { 'ndcg@10': 0.61 } })], checkpoints: [2], modelDir: `${old}/model`,
      device: { device: 'cpu', reason: 'auto picked cpu; webgpu: no WebGPU adapter' },
    });
    await start(engine);
    const pick = document.getElementById('train-show-run') as HTMLSelectElement;
    expect([...pick.options].map((o) => o.textContent)).toContain('first — 2 steps, finished');
    pick.value = old;
    await act(() => void pick.dispatchEvent(new Event('change', { bubbles: true })));
    expect(saved()).toMatchObject({ run: old, trained: `${old}/model` });
    expect(chart('Evaluation: ndcg@10')!.getAttribute('data-points')).toBe('1');
    expect(byLabel('Trained model folder').value).toBe(`${old}/model`);
    // The device the engine wrote down for the run (issue 15 §9), not "the engine says which when the run ends".
    expect(main()).toContain('Device: CPU — auto picked cpu; webgpu: no WebGPU adapter.');
  });

  it('trains with a template an earlier version kept in this browser, moved into the project first', async () => {
    const engine = setUp();
    const sent = recordTrains(engine);
    localStorage.setItem(`embedsmith.templates.${P}`, JSON.stringify({ query: 'q: ', document: 'd: ', text: '' }));
    await start(engine);
    expect(engine.calls.filter((c) => c.method === 'saveTemplate').map((c) => c.args)).toEqual([[P, 'default', { query: 'q: ', document: 'd: ', text: '' }, { active: true }]]);
    expect(main()).toContain(`It was kept in this browser by an earlier version and is now saved in ${P}/templates.json.`);
    await act(() => button('Start training').click());
    expect(sent[0].settings?.template).toEqual({ query: 'q: ', document: 'd: ' });
    expect(localStorage.getItem(`embedsmith.templates.${P}`)).toBeNull();
  });

  it('will not train while the project’s templates cannot be read', async () => {
    const engine = setUp();
    engine.listTemplates = async () => {
      throw new EngineError('SCHEMA', `${P}/templates.json is not valid JSON at line 3, column 1. Fix: correct that spot in a text editor.`);
    };
    await start(engine);
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The project’s templates cannot be read');
    expect(alert.textContent).toContain('templates.json is not valid JSON at line 3');
    expect(button('Start training').disabled).toBe(true);
    expect(main()).toContain('The project’s templates cannot be read: see the message above.');
  });

  it("shows the engine's refusals and failures with message and code", async () => {
    const engine = setUp();
    engine.trainModel = async () => {
      throw new EngineError('ALREADY_EXISTS', `${RUN} already holds a run; continue it with --resume or choose another --out`);
    };
    await start(engine);
    await act(() => button('Start training').click());
    let alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Training could not start');
    expect(alert.textContent).toContain('already holds a run');
    expect(alert.textContent).toContain('ALREADY_EXISTS');
    engine.trainModel = FakeEngine.prototype.trainModel.bind(engine);
    await act(() => button('Start training').click());
    await act(() => engine.failJob(lastJob(engine), { code: 'BAD_INPUT', message: '--max-length: 2 must be an integer >= 3, e.g. 128' }));
    const alerts = [...document.querySelectorAll('[role="alert"]')];
    expect(alerts).toHaveLength(1); // the missing run folder is no second error
    alert = alerts[0];
    expect(alert.textContent).toContain('Training failed');
    expect(alert.textContent).toContain('--max-length: 2 must be an integer');
  });
});
