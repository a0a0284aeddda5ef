// The Evaluate page against the fake engine: both models evaluated on the chosen dataset
// (queued one after the other), the metric table with deltas, queries ordered by rank change
// and opened to their relevant documents' ranks, engine errors shown with their code, and
// jobs followed while the user is on another page.
import { describe, expect, it } from 'vitest';
import type { EvaluateJobResult, EvaluateRequest, ProjectInfo } from '../../../../shared/api.js';
import { EngineError } from '../../../../shared/api.js';
import { act, goTo, seedChoices, startApp, unmountApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, queryButton } from '../../testing/dom.js';

const PROJECT: ProjectInfo = { dir: '/p/legal', name: 'Legal', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const CHOICES = { model: '/models/base', dataset: '/p/legal/datasets/faq', trained: '/p/legal/runs/r1/model', run: '/p/legal/runs/r1' };


function engineWithProject(): { engine: FakeEngine; requests: EvaluateRequest[] } {
  const engine = new FakeEngine();
  engine.projects.set(PROJECT.dir, PROJECT);
  engine.open = PROJECT;
  engine.datasets = [{ dir: CHOICES.dataset, name: 'faq', format: 'pairs', rows: 4, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '' }];
  engine.datasetRows.set(CHOICES.dataset, [
    { index: 0, line: 2, anchor: 'reset password', positive: 'Settings → Security → Reset', side: 'eval' },
    { index: 1, line: 3, anchor: 'reset password', positive: 'Use the emailed link', side: 'eval' },
    { index: 2, line: 4, anchor: 'cancel plan', positive: 'Billing → Cancel', side: 'eval' },
    { index: 3, line: 5, anchor: 'export data', positive: 'Account → Export', side: 'eval' },
  ]);
  // The chosen run, finished, without the general-set check (older runs have none).
  engine.runs.set(CHOICES.run, { dir: CHOICES.run, config: { model: CHOICES.model }, metrics: [], checkpoints: [], modelDir: CHOICES.trained });
  const requests: EvaluateRequest[] = [];
  const original = engine.evaluateModel.bind(engine);
  engine.evaluateModel = (r) => (requests.push(r), original(r));
  return { engine, requests };
}

function start(engine: FakeEngine, choices: object | null = CHOICES, hash = '#/evaluate'): Promise<HTMLElement> {
  if (choices) seedChoices(PROJECT.dir, choices);
  return startApp(engine, hash, 2);
}

const BEFORE: EvaluateJobResult = {
  metrics: { 'ndcg@10': 0.5, 'mrr@10': 0.4, 'map@100': 0.3 },
  queries: 3,
  documents: 4,
  perQuery: [
    { query: 'reset password', ranks: [6, null] },
    { query: 'cancel plan', ranks: [1] },
    { query: 'export data', ranks: [3] },
  ],
};
const AFTER: EvaluateJobResult = {
  metrics: { 'ndcg@10': 0.625, 'mrr@10': 0.35, 'map@100': 0.3 },
  queries: 3,
  documents: 4,
  perQuery: [
    { query: 'export data', ranks: [2] },
    { query: 'reset password', ranks: [1, 4] },
    { query: 'cancel plan', ranks: [5] },
  ],
};

const evalJobs = (engine: FakeEngine) => [...engine.jobs.values()].filter((j) => j.kind === 'evaluate');
const finish = (engine: FakeEngine, jobId: string, result: EvaluateJobResult) =>
  engine.progressJob(jobId, { state: 'done', fraction: 1, message: `nDCG@10 ${result.metrics['ndcg@10']}`, result });
const cell = (metric: string, col: number) => document.querySelector(`tr[data-metric="${metric}"]`)!.children[col].textContent!.replace(/\s+/g, ' ').trim();
const jobState = (slot: string) => document.querySelector(`[data-testid="job-${slot}"]`)?.getAttribute('data-state');

useApp();

describe('Evaluate page', () => {
  it('asks for a project first', async () => {
    const engine = new FakeEngine();
    await start(engine, null);
    expect(document.querySelector('h1')!.textContent).toBe('Evaluate');
    expect(document.querySelector('main a[href="#/project"]')).not.toBeNull();
  });

  it('evaluates both models on the dataset, queued in turn, and shows metrics with deltas', async () => {
    const { engine, requests } = engineWithProject();
    await start(engine);
    expect(byLabel('Base model folder').value).toBe(CHOICES.model);
    expect(byLabel('Trained model folder').value).toBe(CHOICES.trained);
    expect((document.getElementById('eval-dataset') as HTMLSelectElement).value).toBe(CHOICES.dataset);
    await act(() => button('Evaluate both models').click());
    expect(requests).toEqual([
      { model: CHOICES.model, dataset: CHOICES.dataset },
      { model: CHOICES.trained, dataset: CHOICES.dataset },
    ]);
    expect(jobState('before')).toBe('queued');
    expect(jobState('after')).toBe('queued');
    expect(button('Evaluate both models').disabled).toBe(true); // one comparison at a time
    const [b, a] = evalJobs(engine);
    await act(() => engine.progressJob(b.jobId, { state: 'running', message: 'embed…', done: 2, total: 7 }));
    expect(document.querySelector<HTMLProgressElement>('progress[aria-label="Base model progress"]')!.value).toBeCloseTo(2 / 7);
    await act(() => finish(engine, b.jobId, BEFORE));
    expect(cell('ndcg@10', 1)).toBe('0.5000');
    expect(cell('ndcg@10', 3)).toBe('–'); // the after side is still running
    await act(() => finish(engine, a.jobId, AFTER));
    expect(cell('ndcg@10', 2)).toBe('0.6250');
    expect(cell('ndcg@10', 3)).toBe('+0.1250 better');
    expect(cell('mrr@10', 3)).toBe('−0.0500 worse');
    expect(cell('map@100', 3)).toBe('±0.0000');
    expect(document.querySelector('[data-testid="metrics-table"] thead')!.textContent).toContain('(base)');
    expect(document.querySelector('[data-testid="metrics-table"] thead')!.textContent).toContain('(r1)');
    expect(button('Evaluate both models').disabled).toBe(false);
  });

  it('lists queries by rank change and opens one to its relevant documents', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => button('Evaluate both models').click());
    const [b, a] = evalJobs(engine);
    await act(() => finish(engine, b.jobId, BEFORE));
    await act(() => finish(engine, a.jobId, AFTER));
    const queries = () => [...document.querySelectorAll('[data-testid="query-list"] .query')].map((q) => q.textContent);
    expect(queries()).toEqual(['reset password', 'export data', 'cancel plan']);
    expect(document.querySelector('main')!.textContent).toContain('2 improved, 1 got worse, 0 unchanged');
    const first = document.querySelector('[data-testid="query-list"] li')!;
    expect(first.className).toContain('improved');
    expect(first.querySelector('summary')!.textContent!.replace(/\s+/g, ' ')).toContain('6 → 1');
    expect(first.querySelector('.change')!.textContent).toBe('up 5');
    const order = document.querySelector<HTMLSelectElement>('select option[value="losses"]')!.parentElement as HTMLSelectElement;
    await act(() => {
      order.value = 'losses';
      order.dispatchEvent(new Event('change'));
    });
    expect(queries()[0]).toBe('cancel plan');
    // Open "reset password": its two positives, in row order, with both ranks.
    const details = [...document.querySelectorAll('details')].find((d) => d.querySelector('.query')!.textContent === 'reset password')!;
    await act(() => {
      details.open = true;
      details.dispatchEvent(new Event('toggle'));
    });
    await act(() => {});
    expect(engine.calls.some((c) => c.method === 'readDatasetRows' && c.args[0] === CHOICES.dataset)).toBe(true);
    const rows = [...details.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent));
    expect(rows).toEqual([
      ['Settings → Security → Reset', '6', '1'],
      ['Use the emailed link', '>100', '4'],
    ]);
  });

  it('opens a query to each model\'s ranked top results when the engine sends them', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => button('Evaluate both models').click());
    const [b, a] = evalJobs(engine);
    const hits = (texts: string[], relevantAt: number) => texts.map((text, i) => ({ text, score: 0.9 - i * 0.1, relevant: i === relevantAt }));
    await act(() => finish(engine, b.jobId, { ...BEFORE, perQuery: [{ query: 'cancel plan', ranks: [2], relevant: ['Billing → Cancel'], retrieved: hits(['Pause plan', 'Billing → Cancel'], 1) }] }));
    await act(() => finish(engine, a.jobId, { ...AFTER, perQuery: [{ query: 'cancel plan', ranks: [1], relevant: ['Billing → Cancel'], retrieved: hits(['Billing → Cancel', 'Pause plan'], 0) }] }));
    const details = document.querySelector('[data-testid="query-list"] details')!;
    await act(() => {
      (details as HTMLDetailsElement).open = true;
      details.dispatchEvent(new Event('toggle'));
    });
    // The relevant texts come with the result: no dataset read.
    expect(engine.calls.some((c) => c.method === 'readDatasetRows')).toBe(false);
    expect([...details.querySelectorAll('tbody tr')].map((tr) => tr.children[0].textContent)).toEqual(['Billing → Cancel']);
    const lists = [...details.querySelectorAll('.ranked > div')].map((d) => [d.querySelector('h3')!.textContent, [...d.querySelectorAll('li')].map((li) => [li.textContent!.replace(/\s+/g, ' ').trim(), li.classList.contains('hit')])]);
    expect(lists).toEqual([
      ['Before: top 2', [['0.900 Pause plan', false], ['0.800 Billing → Cancel(relevant) ✓', true]]],
      ['After: top 2', [['0.900 Billing → Cancel(relevant) ✓', true], ['0.800 Pause plan', false]]],
    ]);
  });

  it("shows a failed evaluation's engine message and code, and a refused start", async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => button('Evaluate both models').click());
    const [b] = evalJobs(engine);
    await act(() => engine.failJob(b.jobId, { code: 'BAD_INPUT', message: '/p/legal/datasets/faq has no split.json, so there are no eval rows. Fix: split the dataset first' }));
    const alert = document.querySelector('[data-testid="job-before"] [role="alert"]')!;
    expect(alert.textContent).toContain('Base model failed');
    expect(alert.textContent).toContain('Fix: split the dataset first');
    expect(alert.textContent).toContain('BAD_INPUT');
    engine.evaluateModel = async () => {
      throw new EngineError('HOST_CRASHED', 'the engine host stopped (exit code 1); try again');
    };
    await act(() => button('Cancel evaluation').click()); // the queued after-job goes first
    await act(() => button('Evaluate both models').click());
    const refused = document.querySelector('[role="alert"]')!;
    expect(refused.textContent).toContain('The evaluation could not start');
    expect(refused.textContent).toContain('HOST_CRASHED');
    await act(() => button('Dismiss error').click());
    expect(queryButton('Dismiss error')).toBeNull();
  });

  it('says so when the chosen run cannot be read for its general-set scores', async () => {
    const { engine } = engineWithProject();
    engine.runs.clear();
    await start(engine);
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The run’s general-set scores could not be read');
    expect(alert.textContent).toContain('/p/legal/runs/r1');
    expect(document.querySelector('[data-testid="general-deltas"]')).toBeNull();
  });

  it('keeps following the jobs on other pages and after a reload', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await act(() => button('Evaluate both models').click());
    const [b, a] = evalJobs(engine);
    goTo('#/models');
    await act(() => finish(engine, b.jobId, BEFORE));
    await act(() => finish(engine, a.jobId, AFTER));
    goTo('#/evaluate');
    await act(() => {});
    expect(cell('ndcg@10', 3)).toBe('+0.1250 better');
    unmountApp();
    await start(engine, null); // a reload: the choices and job ids come back from storage
    expect(cell('mrr@10', 3)).toBe('−0.0500 worse');
  });

  it('evaluates the base model alone when no trained model is chosen, and flags stale results', async () => {
    const { engine, requests } = engineWithProject();
    await start(engine, { ...CHOICES, trained: null });
    await act(() => button('Evaluate the base model').click());
    expect(requests).toHaveLength(1);
    await act(() => finish(engine, evalJobs(engine)[0].jobId, BEFORE));
    expect(cell('ndcg@10', 1)).toBe('0.5000');
    expect(document.querySelector('[role="note"]')).toBeNull();
    const base = byLabel('Base model folder');
    await act(() => {
      base.value = '/models/other';
      base.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(document.querySelector('[role="note"]')!.textContent).toContain('the choices above have changed since');
  });
});
