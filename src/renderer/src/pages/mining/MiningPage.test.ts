// The Mining page against the fake engine: the request it sends (defaults, chosen settings),
// the job followed to its end and into the workbench, the report, and the triage table's
// edits — each checked by what reached the engine, not by what the page says it did.
import { describe, expect, it } from 'vitest';
import { EngineError, type DatasetRowView, type DatasetSummary, type MineRequest, type ProjectInfo } from '../../../../shared/api.js';
import { act as actThen, goTo, seedChoices, startApp, unmountApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, queryButton, settle, type } from '../../testing/dom.js';

const P = '/home/ada/support';
const FAQ = `${P}/datasets/faq`;
const MINED = `${P}/datasets/faq-mined`;
const project: ProjectInfo = { dir: P, name: 'Support', schemaVersion: 1, createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z' };
const summary = (dir: string, more: Partial<DatasetSummary> = {}): DatasetSummary => ({
  dir, name: dir.split('/').pop()!, format: 'pairs', rows: 2, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '2026-11-01T00:00:00Z', ...more,
});
const bins = (at: Record<number, number>) => Array.from({ length: 40 }, (_, i) => at[i] ?? 0);
const report = {
  schemaVersion: 1,
  options: { negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 },
  totals: { anchors: 2, corpus: 7, asked: 6, mined: 5, eligible: 9, short: 1, none: 0 },
  removed: { ownPositive: 2, rankRange: 18, duplicate: 0 },
  histograms: { positive: { counts: bins({ 36: 2 }), n: 2, mean: 0.85 }, negative: { counts: bins({ 30: 1, 34: 2, 36: 2 }), n: 5, mean: 0.714 } },
  stats: {
    positive: { count: 2, mean: 0.85, std: 0.0707, min: 0.8, p25: 0.825, median: 0.85, p75: 0.875, max: 0.9 },
    negative: { count: 5, mean: 0.714, std: 0.15, min: 0.52, p25: 0.6, median: 0.71, p75: 0.83, max: 0.91 },
  },
  short: { count: 1, listed: [{ anchor: 'refund', line: 3, found: 2 }], truncated: false },
};
const minedRows = (): DatasetRowView[] => [
  { index: 0, line: 2, side: 'train', anchor: 'reset my password', positive: 'Reset it from Settings', negatives: ['Passwords need 8 characters', 'Change your email', 'Delete your account'], negativeScores: [0.83, 0.71, 0.52], negativeRanks: [11, 14, 30] },
  { index: 1, line: 3, side: 'train', anchor: 'refund', positive: 'Refunds take 5 days', negatives: ['Refunds are issued within a week', 'Shipping costs'], negativeScores: [0.91, 0.6], negativeRanks: [11, 12] },
];


function engineWithProject(choices: Record<string, string>): FakeEngine {
  const engine = new FakeEngine();
  engine.projects.set(P, project);
  engine.open = project;
  engine.datasets = [summary(FAQ)];
  engine.models.set('/models/mini', { dir: '/models/mini', family: 'bert', hidden: 32, layers: 1, heads: 4, vocabSize: 100, params: 120_000, loraParamsPerRank: 256, maxLength: 128, positions: 128, pooling: 'mean', normalize: true, prompts: {}, notes: [] });
  seedChoices(P, choices);
  return engine;
}

/** The mined dataset as the engine has it once the job is done. */
function addMined(engine: FakeEngine): void {
  engine.datasets = [summary(FAQ), summary(MINED, { format: 'triplets', mined: true })];
  engine.datasetDetails.set(MINED, { summary: engine.datasets[1], issues: [], issueCounts: {}, miningReport: report, history: [] });
  engine.datasetRows.set(MINED, minedRows());
}

const start = (engine: FakeEngine, hash = '#/mining') => startApp(engine, hash, 2);
const act = (f: () => unknown) => actThen(f, 2);
const main = () => document.querySelector('main')!.textContent!.replace(/\s+/g, ' ');
const statusOf = (text: string) => [...document.querySelectorAll('[role="status"]')].find((s) => s.textContent?.includes(text));
const select = (label: string) => document.getElementById(byLabelFor(label)) as HTMLSelectElement;
const byLabelFor = (text: string) => [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === text)!.htmlFor;
const choose = (label: string, value: string) => {
  const s = select(label);
  s.value = value;
  s.dispatchEvent(new Event('change', { bubbles: true }));
};
const saved = () => JSON.parse(localStorage.getItem(`embedsmith.workbench.${P}`)!) as Record<string, string | null>;

function recordMines(engine: FakeEngine): MineRequest[] {
  const seen: MineRequest[] = [];
  const mine = engine.mineNegatives.bind(engine);
  engine.mineNegatives = (r) => (seen.push(r), mine(r));
  return seen;
}

useApp();

describe('Mining page', () => {
  it('asks for a project first', async () => {
    await start(new FakeEngine());
    expect(document.querySelector('h1')!.textContent).toBe('Mining');
    expect(main()).toContain('Open or create a project first');
  });

  it('mines with the defaults into PROJECT/datasets/<name>-mined, follows the job, then shows the result', async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ });
    const sent = recordMines(engine);
    await start(engine);
    expect(byLabel('Model folder').value).toBe('/models/mini');
    expect(main()).toContain('bert · 1 layers · width 32'); // the engine described the folder
    expect(select('Dataset to mine').value).toBe(FAQ);
    expect(byLabel('New dataset name').value).toBe('faq-mined');
    await act(() => button('Mine negatives').click());
    expect(sent).toEqual([{ model: '/models/mini', dataset: FAQ, out: MINED, device: 'auto', options: { negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 } }]);
    const jobId = [...engine.jobs.keys()].at(-1)!;
    expect(statusOf('Mining waits for the device')).toBeTruthy();
    expect(document.activeElement).toBe(button('Cancel mining'));
    await act(() => engine.progressJob(jobId, { state: 'running', message: 'search…', done: 1, total: 2, fraction: 0.5 }));
    expect(document.querySelector<HTMLProgressElement>('progress[aria-label="Mining progress"]')!.value).toBe(0.5);
    expect(main()).toContain('search… · 1 of 2 · 50%');
    expect(button('Mine negatives').disabled).toBe(true); // one mining job at a time

    addMined(engine);
    await act(() => engine.emitJob({ ...engine.jobs.get(jobId)!, state: 'done', fraction: 1, message: 'Mined 5 negatives', result: { dataset: MINED, anchors: 2, mined: 5, shortAnchors: 1 } }));
    expect(saved().mined).toBe(MINED);
    expect(statusOf('Mined 5 negatives')).toBeTruthy();
    expect(select('Mined dataset to review').value).toBe(MINED);
    expect(document.querySelector('[data-testid="mining-totals"]')!.textContent).toContain('5 of 6 negatives asked for 2 queries, from 7 texts');
    expect(main()).toContain('were the query’s own positive');
    expect(main()).toContain('ranked in the skipped top');
    expect(main()).not.toContain('repeated the query'); // rules that removed nothing are left out
    expect(main()).toContain('1 queries got fewer than 3 negatives');
    expect(document.querySelector('svg[aria-label^="Score histogram"]')!.getAttribute('aria-label')).toBe(
      'Score histogram: 2 positive scores, mean 0.850; 5 mined negative scores, mean 0.714',
    );
    // Score statistics beside the histogram: each side and their difference.
    const rows = [...document.querySelectorAll('[data-testid="score-stats"] tbody tr')].map((r) => [...r.children].map((c) => c.textContent!.trim()));
    expect(rows.find((r) => r[0] === 'Mean')).toEqual(['Mean', '0.850', '0.714', '0.136']);
    expect(rows.find((r) => r[0] === 'Count')).toEqual(['Count', '2', '5', '']);
    expect(rows.find((r) => r[0] === 'Max')).toEqual(['Max', '0.900', '0.910', '-0.010']);
    expect(byLabel('New dataset name').value).toBe('faq-mined-2'); // the next run will not collide
  });

  it('says mining is running, not that there are no datasets, while the first one is mined', async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ });
    await start(engine);
    const placeholder = () => select('Mined dataset to review').options[0].textContent!.trim();
    expect(placeholder()).toBe('No mined datasets yet: mine negatives above');
    await act(() => button('Mine negatives').click());
    expect(placeholder()).toBe('Mining is running: its dataset is listed when it finishes');
    expect(main()).not.toContain('No datasets');
  });

  it('sends the settings the user chose, and holds back ones that cannot work', async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ });
    const sent = recordMines(engine);
    await start(engine);
    await act(() => type(byLabel('Search down to rank'), '11'));
    expect(button('Mine negatives').disabled).toBe(true);
    expect(document.querySelector('[data-testid="mine-problem"]')!.textContent).toBe('3 negatives cannot be found in ranks 11–11: search deeper or ask for fewer.');
    await act(() => type(byLabel('Search down to rank'), '50'));
    await act(() => type(byLabel('Negatives per query'), '5'));
    await act(() => choose('Margin below the positive', 'relative'));
    await act(() => type(byLabel('Relative margin'), '0.1'));
    await act(() => byLabel('Cap the score').click());
    await act(() => type(byLabel('Highest score allowed'), '0.9'));
    await act(() => choose('Which candidates', 'random'));
    await act(() => type(byLabel('Seed'), '7'));
    await act(() => choose('Device', 'cpu'));
    await act(() => type(byLabel('New dataset name'), 'faq-hard'));
    await act(() => button('Mine negatives').click());
    expect(sent[0]).toEqual({
      model: '/models/mini', dataset: FAQ, out: `${P}/datasets/faq-hard`, device: 'cpu',
      options: { negatives: 5, rankMin: 10, rankMax: 50, relativeMargin: 0.1, maxScore: 0.9, sampling: 'random', seed: 7 },
    });
  });

  it("shows the engine's errors with message and code", async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ });
    engine.mineNegatives = async () => {
      throw new EngineError('ALREADY_EXISTS', `${MINED} is not empty: choose another name`);
    };
    await start(engine);
    await act(() => button('Mine negatives').click());
    let alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Mining could not start');
    expect(alert.textContent).toContain('is not empty: choose another name');
    expect(alert.textContent).toContain('ALREADY_EXISTS');
    await act(() => button('Dismiss error').click());
    engine.mineNegatives = FakeEngine.prototype.mineNegatives.bind(engine);
    await act(() => button('Mine negatives').click());
    const jobId = [...engine.jobs.keys()].at(-1)!;
    await act(() => engine.failJob(jobId, { code: 'UNSUPPORTED', message: `${FAQ} is a 'retrieval' dataset; mining takes pairs` }));
    alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Mining failed');
    expect(alert.textContent).toContain("is a 'retrieval' dataset");
    expect(alert.textContent).toContain('UNSUPPORTED');
  });

  it('keeps a job going on other pages; its dataset becomes the mined one when the user comes back', async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ });
    await start(engine);
    await act(() => button('Mine negatives').click());
    const jobId = [...engine.jobs.keys()].at(-1)!;
    goTo('#/models');
    addMined(engine);
    await act(() => engine.emitJob({ ...engine.jobs.get(jobId)!, state: 'done', fraction: 1, message: 'Mined 5 negatives', result: { dataset: MINED, anchors: 2, mined: 5, shortAnchors: 1 } }));
    expect(saved().mined ?? null).toBeNull(); // nothing read it yet
    goTo('#/mining');
    await act(() => settle());
    expect(saved().mined).toBe(MINED);
    expect(main()).toContain('Review the negatives');
  });
});

describe('Reviewing mined negatives', () => {
  async function review(): Promise<FakeEngine> {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ, mined: MINED });
    addMined(engine);
    // As the engine does: a change edits the row, and drops its scores when the negatives changed.
    engine.editDataset = async (dir, edit) => {
      engine.calls.push({ method: 'editDataset', args: [dir, edit] });
      if (edit.op !== 'change') throw new Error('unexpected edit');
      const rows = engine.datasetRows.get(dir)!;
      const row = rows.find((r) => r.index === edit.index)!;
      const negatives = [...row.negatives!];
      let positive = row.positive;
      for (const [k, v] of Object.entries(edit.fields)) {
        const m = /^negative_(\d+)$/.exec(k);
        if (m) negatives[Number(m[1]) - 1] = v as string;
        else if (k === 'positive') positive = v as string;
      }
      const next = { index: row.index, line: row.line, side: row.side, anchor: row.anchor, positive, negatives: negatives.filter((n) => n !== null) };
      engine.datasetRows.set(dir, rows.map((r) => (r === row ? next : r)));
      return { editId: 1, warnings: [] };
    };
    await start(engine);
    return engine;
  }
  const rowOf = (text: string) => [...document.querySelectorAll('tbody tr')].find((tr) => tr.textContent?.includes(text)) as HTMLTableRowElement;
  const edits = (engine: FakeEngine) => engine.calls.filter((c) => c.method === 'editDataset').map((c) => c.args);

  it('flags negatives scoring near the typical positive, and follows the threshold', async () => {
    await review();
    expect(byLabel('Flag threshold').value).toBe('0.8'); // positive mean 0.85 − 0.05
    expect(rowOf('Passwords need 8 characters').textContent).toContain('Likely false negative'); // 0.83
    expect(rowOf('Refunds are issued within a week').textContent).toContain('Likely false negative'); // 0.91
    expect(rowOf('Change your email').textContent).not.toContain('Likely false negative'); // 0.71
    expect(document.querySelector('[data-testid="triage-range"]')!.textContent).toContain('Rows 1–2 of 2; 2 flagged negatives on this page.');
    await act(() => type(byLabel('Flag threshold'), '0.7'));
    expect(rowOf('Change your email').textContent).toContain('Likely false negative');
    expect(document.querySelector('[data-testid="triage-range"]')!.textContent).toContain('3 flagged negatives');
    expect(document.querySelector('line.threshold')).not.toBeNull(); // marked on the histogram too
  });

  it('rejects with {negative_K: null}, keeping the other scores the engine dropped', async () => {
    const engine = await review();
    await act(() => button('Reject negative 2 of row 0').click());
    expect(edits(engine)).toEqual([[MINED, { op: 'change', index: 0, fields: { negative_2: null } }]]);
    expect(statusOf('Removed negative 2 from row 0.')).toBeTruthy();
    expect(rowOf('Change your email')).toBeUndefined();
    expect(rowOf('Delete your account').textContent).toContain('0.520'); // remembered from before the edit
    expect(queryButton('Reject negative 3 of row 0')).toBeNull(); // renumbered: it is negative 2 now
    await act(() => button('Undo last edit').click());
    expect(engine.calls.at(-2)).toEqual({ method: 'undoDatasetEdit', args: [MINED] });
  });

  it('makes a negative the positive with {positive, negative_K: null}', async () => {
    const engine = await review();
    await act(() => button('Make positive: negative 1 of row 1').click());
    expect(edits(engine)).toEqual([[MINED, { op: 'change', index: 1, fields: { positive: 'Refunds are issued within a week', negative_1: null } }]]);
    expect(statusOf('Row 1: negative 1 is now its positive.')).toBeTruthy();
  });

  it('keeps a flagged negative without an edit, and remembers it', async () => {
    const engine = await review();
    const keep = button('Keep negative 1 of row 0');
    await act(() => keep.click());
    expect(button('Keep negative 1 of row 0').getAttribute('aria-pressed')).toBe('true');
    expect(rowOf('Passwords need 8 characters').textContent).not.toContain('Likely false negative');
    expect(edits(engine)).toEqual([]);
    unmountApp();
    await start(engine);
    expect(button('Keep negative 1 of row 0').getAttribute('aria-pressed')).toBe('true');
    await act(() => byLabel('Only rows with flagged negatives').click());
    expect(rowOf('reset my password')).toBeUndefined(); // its one flag was kept
    expect(rowOf('refund')).toBeDefined();
  });

  it('filters every row for flagged negatives, not the page shown, and counts them all', async () => {
    const engine = engineWithProject({ model: '/models/mini', dataset: FAQ, mined: MINED });
    addMined(engine);
    // 60 rows: every third has one negative at 0.95 (flagged at 0.8), spread over three pages.
    const many: DatasetRowView[] = Array.from({ length: 60 }, (_, i) => ({
      index: i, line: i + 2, side: 'train', anchor: `q${i}-anchor`, positive: `answer ${i}`, negatives: [`near ${i}`, `far ${i}`],
      negativeScores: [i % 3 === 0 ? 0.95 : 0.5, 0.1], negativeRanks: [11, 40],
    }));
    engine.datasetRows.set(MINED, many);
    await start(engine);
    const range = () => document.querySelector('[data-testid="triage-range"]')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(range()).toBe('Rows 1–25 of 60; 9 flagged negatives on this page.');
    await act(() => byLabel('Only rows with flagged negatives').click());
    expect(range()).toBe('Rows 1–20 of 20 rows with flagged negatives; 20 flagged negatives in all.');
    expect(rowOf('q57-anchor')).toBeDefined(); // from the engine's third page
    expect(rowOf('q1-anchor')).toBeUndefined();
    // The engine was asked for every row, not one page.
    expect(engine.calls.filter((c) => c.method === 'readDatasetRows').at(-1)!.args[1]).toMatchObject({ offset: 0, limit: 5000 });
    // The threshold still applies to all of them, and the pager pages the filtered rows.
    await act(() => type(byLabel('Flag threshold'), '0.4'));
    expect(range()).toBe('Rows 1–25 of 60 rows with flagged negatives; 60 flagged negatives in all.');
    await act(() => button('Next rows').click());
    expect(range()).toBe('Rows 26–50 of 60 rows with flagged negatives; 60 flagged negatives in all.');
    await act(() => byLabel('Only rows with flagged negatives').click());
    expect(range()).toBe('Rows 1–25 of 60; 25 flagged negatives on this page.');
  });

  it('moves between the same action in the next row with the arrow keys', async () => {
    await review();
    const first = button('Reject negative 1 of row 0');
    first.focus();
    first.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(button('Reject negative 2 of row 0'));
  });

  it("shows an edit the engine refused, with its message", async () => {
    const engine = await review();
    engine.editDataset = async () => {
      throw new EngineError('BAD_INPUT', `${MINED}: edit refused: row 1: positive is empty. Fix: give every field`);
    };
    await act(() => button('Reject negative 1 of row 1').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The dataset was not changed');
    expect(alert.textContent).toContain('edit refused');
    expect(alert.textContent).toContain('BAD_INPUT');
  });
});
