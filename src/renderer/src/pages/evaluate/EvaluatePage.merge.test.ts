// The Evaluate page's forgetting guard against the fake engine: domain and general deltas
// side by side when the run has general-eval.json, the merge curve as a job whose shown
// endpoints are the base and trained models' own evaluations, the slider's readout and chart
// marker following α, and the export sending the chosen α.
import { describe, expect, it } from 'vitest';
import type { EvaluateJobResult, EvaluateRequest, MergeCurvePoint, ProjectInfo, RunView } from '../../../../shared/api.js';
import { act, seedChoices, startApp, stopApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, queryButton, type } from '../../testing/dom.js';

const PROJECT: ProjectInfo = { dir: '/p/legal', name: 'Legal', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const CHOICES = { model: '/models/base', dataset: '/p/legal/datasets/faq', trained: '/p/legal/runs/r1/model', run: '/p/legal/runs/r1' };
const BEFORE: EvaluateJobResult = { metrics: { 'ndcg@10': 0.5, 'mrr@10': 0.4, 'recall@10': 0.6 }, queries: 3, documents: 4, perQuery: [] };
const AFTER: EvaluateJobResult = { metrics: { 'ndcg@10': 0.625, 'mrr@10': 0.35, 'recall@10': 0.8 }, queries: 3, documents: 4, perQuery: [] };
const GENERAL_BEFORE = { 'ndcg@10': 0.7, 'mrr@10': 0.65, 'recall@10': 0.9 };
const GENERAL_AFTER = { 'ndcg@10': 0.61, 'mrr@10': 0.6, 'recall@10': 0.9 };
const RUN: RunView = {
  dir: CHOICES.run, config: {}, metrics: [], checkpoints: [], modelDir: CHOICES.trained,
  general: { set: 'WordNet usage examples → definitions (400 pairs)', queries: 400, before: GENERAL_BEFORE, after: GENERAL_AFTER },
};


function engineWithProject(run: RunView | null = RUN): FakeEngine {
  const engine = new FakeEngine();
  engine.projects.set(PROJECT.dir, PROJECT);
  engine.open = PROJECT;
  engine.datasets = [{ dir: CHOICES.dataset, name: 'faq', format: 'pairs', rows: 4, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '' }];
  engine.datasetRows.set(CHOICES.dataset, [{ index: 0, line: 2, anchor: 'reset password', positive: 'Settings → Security → Reset', side: 'eval' }]);
  if (run) engine.runs.set(run.dir, run);
  return engine;
}

function start(engine: FakeEngine): Promise<HTMLElement> {
  seedChoices(PROJECT.dir, CHOICES);
  return startApp(engine, '#/evaluate', 3);
}

const jobsOf = (engine: FakeEngine, kind: string) => [...engine.jobs.values()].filter((j) => j.kind === kind);
const text = (sel: string) => document.querySelector(sel)!.textContent!.replace(/\s+/g, ' ').trim();

/** Evaluates both models through the page and finishes both jobs with BEFORE and AFTER. */
async function evaluateBoth(engine: FakeEngine): Promise<void> {
  await act(() => button('Evaluate both models').click());
  const [b, a] = jobsOf(engine, 'evaluate');
  await act(() => engine.progressJob(b.jobId, { state: 'done', fraction: 1, message: 'done', result: BEFORE }));
  await act(() => engine.progressJob(a.jobId, { state: 'done', fraction: 1, message: 'done', result: AFTER }));
}

/** A curve whose ends are the evaluations above (as the engine's are: α 0 is the base model, α 1 the trained). */
function curveFrom(before: EvaluateJobResult, after: EvaluateJobResult): MergeCurvePoint[] {
  return Array.from({ length: 11 }, (_, i) => {
    const alpha = i / 10;
    // An arch in the middle, so no point but the ends equals an evaluation.
    const mid = (x: number, y: number) => (1 - alpha) * x + alpha * y + (i > 0 && i < 10 ? 0.01 : 0);
    return {
      alpha,
      domain: { 'ndcg@10': mid(before.metrics['ndcg@10'], after.metrics['ndcg@10']) },
      general: { 'ndcg@10': mid(GENERAL_BEFORE['ndcg@10'], GENERAL_AFTER['ndcg@10']) },
    };
  });
}

useApp();

describe('Evaluate page: domain and general', () => {
  it('shows the domain and general deltas side by side when the run has general-eval.json', async () => {
    const engine = engineWithProject();
    await start(engine);
    expect(engine.calls.some((c) => c.method === 'readRun' && c.args[0] === CHOICES.run)).toBe(true);
    await evaluateBoth(engine);
    const row = (m: string, col: string) => text(`[data-testid="general-deltas"] tr[data-general-metric="${m}"] td[data-col="${col}"]`);
    expect(row('ndcg@10', 'domain')).toBe('+0.1250');
    expect(row('ndcg@10', 'general')).toBe('−0.0900');
    expect(row('mrr@10', 'domain')).toBe('−0.0500');
    expect(row('recall@10', 'general')).toBe('±0.0000');
    expect(text('[data-testid="general-deltas"]')).toContain('400 queries');
  });

  it('shows nothing of the kind for a run without general-eval.json', async () => {
    const engine = engineWithProject({ ...RUN, general: undefined });
    await start(engine);
    await evaluateBoth(engine);
    expect(document.querySelector('[data-testid="general-deltas"]')).toBeNull();
  });
});

describe('Evaluate page: merge slider', () => {
  it('computes the curve as a job; its shown ends are the base and trained evaluations; export sends the chosen α', async () => {
    const engine = engineWithProject();
    await start(engine);
    await evaluateBoth(engine);
    await act(() => button('Compute the merge curve').click());
    expect(engine.mergeRequests).toEqual([{ base: CHOICES.model, tuned: CHOICES.trained, dataset: CHOICES.dataset, points: 11 }]);
    const [job] = jobsOf(engine, 'merge-curve');
    expect(document.querySelector('[data-testid="job-merge-curve"]')!.getAttribute('data-state')).toBe('queued');
    await act(() => engine.progressJob(job.jobId, { state: 'running', message: 'α 0.30', done: 4, total: 11, unit: 'items' }));
    expect(document.querySelector<HTMLProgressElement>('progress[aria-label="Merge curve progress"]')!.value).toBeCloseTo(4 / 11);
    await act(() => engine.progressJob(job.jobId, { state: 'done', fraction: 1, message: 'Scored 11 merge points', result: { points: curveFrom(BEFORE, AFTER) } }));

    // The ends as shown equal the metric table's before and after (the evaluate jobs' results).
    const cell = (col: number) => document.querySelector('tr[data-metric="ndcg@10"]')!.children[col].textContent!.trim();
    expect(cell(1)).toBe('0.5000');
    expect(cell(2)).toBe('0.6250');
    expect(text('[data-end="base"]')).toBe(`domain ${cell(1)} · general 0.7000`);
    expect(text('[data-end="tuned"]')).toBe(`domain ${cell(2)} · general 0.6100`);
    const chart = document.querySelector('[data-testid="merge-chart"]')!;
    expect(chart.querySelectorAll('path[data-series]')).toHaveLength(2);
    expect(chart.querySelectorAll('circle')).toHaveLength(22);

    // The slider starts at the trained model; moving it moves the readout and the marker.
    const slider = byLabel('Merge weight α');
    expect(text('[data-testid="merge-readout"]')).toBe('α 1.00: domain nDCG@10 0.6250 · general nDCG@10 0.6100');
    await act(() => type(slider, '0'));
    expect(text('[data-testid="merge-readout"]')).toBe('α 0.00: domain nDCG@10 0.5000 · general nDCG@10 0.7000');
    await act(() => type(slider, '7'));
    expect(text('[data-testid="merge-readout"]')).toBe(`α 0.70: domain nDCG@10 ${(0.3 * 0.5 + 0.7 * 0.625 + 0.01).toFixed(4)} · general nDCG@10 ${(0.3 * 0.7 + 0.7 * 0.61 + 0.01).toFixed(4)}`);
    expect(chart.querySelector('line.marker')!.getAttribute('data-alpha')).toBe('0.7');

    // Export: the suggested folder names the point; the request carries the chosen α.
    expect(byLabel('Folder for the merged model').value).toBe('/p/legal/export/r1-alpha-0.70');
    await act(() => button('Export α 0.70 as a model folder').click());
    expect(engine.mergeRequests[1]).toEqual({ base: CHOICES.model, tuned: CHOICES.trained, alpha: 0.7, out: '/p/legal/export/r1-alpha-0.70' });
    const [merge] = jobsOf(engine, 'merge');
    await act(() => engine.progressJob(merge.jobId, { state: 'done', fraction: 1, message: 'Wrote /p/legal/export/r1-alpha-0.70 (α 0.7)', result: { dir: '/p/legal/export/r1-alpha-0.70', alpha: 0.7, interpolated: 5, notes: [] } }));
    expect(document.querySelector('[data-testid="job-merge"]')!.getAttribute('data-state')).toBe('done');
  });

  it('cancels the curve job, and is not offered without a trained model', async () => {
    const engine = engineWithProject();
    await start(engine);
    await act(() => button('Compute the merge curve').click());
    const [job] = jobsOf(engine, 'merge-curve');
    await act(() => button('Cancel merge curve').click());
    expect(engine.calls.some((c) => c.method === 'cancel' && c.args[0] === job.jobId)).toBe(true);
    expect(engine.jobs.get(job.jobId)!.state).toBe('cancelled');
    expect(queryButton('Compute the merge curve')!.disabled).toBe(false);
    stopApp();
    seedChoices(PROJECT.dir, { ...CHOICES, trained: null });
    await startApp(engineWithProject(), '#/evaluate');
    expect(queryButton('Compute the merge curve')).toBeNull();
  });
});

describe('Evaluate page: shorter embeddings', () => {
  it('evaluates both models at D, D/2, D/4 and D/8 and shows the share of the full-width score each keeps', async () => {
    const engine = engineWithProject();
    engine.models.set(CHOICES.model, { dir: CHOICES.model, family: 'bert', hidden: 384, layers: 1, heads: 4, vocabSize: 100, params: 1, loraParamsPerRank: 3072, maxLength: 128, positions: 128, pooling: 'mean', normalize: true, prompts: {}, notes: [] });
    const requests: EvaluateRequest[] = [];
    const original = engine.evaluateModel.bind(engine);
    engine.evaluateModel = (r) => (requests.push(r), original(r));
    await start(engine);
    await act(() => button('Evaluate at shorter widths').click());
    await act(() => {});
    const dims = [384, 192, 96, 48];
    expect(requests).toEqual([
      ...dims.map((d) => ({ model: CHOICES.model, dataset: CHOICES.dataset, dims: d })),
      ...dims.map((d) => ({ model: CHOICES.trained, dataset: CHOICES.dataset, dims: d })),
    ]);
    expect(text('[data-testid="dims-pending"]')).toBe('8 evaluations to go');
    const jobs = jobsOf(engine, 'evaluate');
    const before = [0.5, 0.45, 0.3, 0.2];
    const after = [0.8, 0.78, 0.72, 0.6];
    for (const [i, j] of jobs.entries()) {
      const v = i < 4 ? before[i] : after[i - 4];
      await act(() => engine.progressJob(j.jobId, { state: 'done', fraction: 1, message: 'done', result: { ...BEFORE, metrics: { 'ndcg@10': v } } }));
    }
    const row = (d: number) => [...document.querySelector(`[data-testid="dims-table"] tr[data-dims="${d}"]`)!.children].map((c) => c.textContent!.trim());
    expect(row(384)).toEqual(['384', '0.5000', '100.0%', '0.8000', '100.0%']);
    expect(row(96)).toEqual(['96', '0.3000', '60.0%', '0.7200', '90.0%']);
    expect(row(48)).toEqual(['48', '0.2000', '40.0%', '0.6000', '75.0%']);
    expect(document.querySelectorAll('[data-testid="dims-chart"] circle')).toHaveLength(8);
    expect(document.querySelector('[data-testid="dims-pending"]')).toBeNull();
  });
});
