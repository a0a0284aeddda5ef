// The read side of EngineApi for the pages: datasets (summary, report, a filtered page of
// rows with edits applied), models, template and import previews, runs and projections —
// what the engine wrote (or would write), read back as plain objects. The last dataset read is kept in memory (keyed
// by the files' mtimes) so paging through 100k rows does not re-read the file per page.
import { loadEncoderFolder } from '../model/open-model.js';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  EngineError,
  type DatasetDetail,
  type DatasetRowView,
  type DatasetRowsQuery,
  type DatasetSummary,
  type ImportPreview,
  type ImportPreviewRequest,
  type ModelSummary,
  type ProjectionView,
  type RunView,
  type TemplatePreviewRequest,
} from '../../../shared/api.js';
import { previewImport as previewFile, readDatasetMeta, splitDataset, type ImportIssue } from '../data/index.js';
import { editHistory } from '../data/edits.js';
import { readRowsWithEdits } from '../data/store.js';
import { applyTemplate } from '../data/templates.js';
import { modelTokenizer } from '../data/token-lengths.js';
import { positionLimit } from '../model/load.js';
import { loraAdapters } from '../nn/lora.js';
import { defaultLoraTargets } from '../nn/lora-step.js';
import { poolingText } from '../model/sentence-config.js';
import { projectionView } from '../projection/projection-file.js';
import { liveIssues, liveSummary } from './live-counts.js';
import { listCheckpoints } from '../train/checkpoint.js';

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

type Report = { issues: DatasetDetail['issues']; counts: Record<string, number> };
const readReport = async (dir: string): Promise<Report> => (await readJson(join(dir, 'report.json')).catch(() => ({ issues: [], counts: {} }))) as Report;
/** An edited dataset (edits.jsonl): its import-time counts no longer hold, and are recounted. */
const edited = (dir: string) => existsSync(join(dir, 'edits.jsonl'));

export async function datasetSummary(dir: string): Promise<DatasetSummary> {
  const s = await importedSummary(dir);
  if (!edited(dir) || s.format === 'retrieval') return s;
  const rows = await allRows(dir);
  const report = await readReport(dir);
  return liveSummary(s, rows, s.warnings - report.issues.filter((i) => i.severity === 'warning').length + liveIssues(report.issues, report.counts, rows).warnings);
}

async function importedSummary(dir: string): Promise<DatasetSummary> {
  const meta = await readDatasetMeta(dir);
  const split = existsSync(join(dir, 'split.json')) ? ((await readJson(join(dir, 'split.json'))) as { counts: { train: number; eval: number } }).counts : null;
  return {
    dir, name: meta.name, format: meta.format, rows: meta.counts.rows, skipped: meta.counts.skipped, warnings: meta.counts.warnings,
    labels: meta.labels ?? null, mined: existsSync(join(dir, 'mining-report.json')), split, createdAt: meta.createdAt,
  };
}

export async function listDatasets(projectDir: string | null): Promise<DatasetSummary[]> {
  if (!projectDir) return [];
  const root = join(projectDir, 'datasets');
  const names = await readdir(root).catch(() => [] as string[]);
  const out: DatasetSummary[] = [];
  for (const n of names.sort()) {
    if (n.startsWith('.') || !existsSync(join(root, n, 'dataset.json'))) continue;
    out.push(await datasetSummary(join(root, n)).catch(() => null as never));
  }
  return out.filter(Boolean);
}

export async function describeDataset(dir: string): Promise<DatasetDetail> {
  const summary = await datasetSummary(dir);
  let report = await readReport(dir);
  if (edited(dir) && summary.format !== 'retrieval') report = liveIssues(report.issues, report.counts, await allRows(dir));
  const mining = existsSync(join(dir, 'mining-report.json')) ? await readJson(join(dir, 'mining-report.json')) : null;
  const h = await editHistory(dir);
  return {
    summary,
    issues: report.issues.map((i) => ({ line: i.line, code: i.code, message: i.message, severity: i.severity })),
    issueCounts: report.counts,
    miningReport: mining,
    history: h.entries.map((e) => ({ id: e.id, op: e.op, index: e.index, time: e.time, undone: e.undone })),
  };
}

let cached: { dir: string; stamp: string; rows: DatasetRowView[] } | null = null;

async function allRows(dir: string): Promise<DatasetRowView[]> {
  const stamp = (await Promise.all(['rows.jsonl', 'edits.jsonl', 'split.json'].map((f) => stat(join(dir, f)).then((s) => `${s.mtimeMs}:${s.size}`, () => '-')))).join('|');
  if (cached && cached.dir === dir && cached.stamp === stamp) return cached.rows;
  const evalIdx = new Set<number>();
  if (existsSync(join(dir, 'split.json'))) for await (const { index } of readRowsWithEdits(dir, { split: 'eval', onWarning: () => {} })) evalIdx.add(index);
  const rows: DatasetRowView[] = [];
  for await (const { index, row } of readRowsWithEdits(dir, { onWarning: () => {} })) rows.push({ ...row, index, side: evalIdx.has(index) ? 'eval' : 'train' });
  cached = { dir, stamp, rows };
  return rows;
}

export async function readDatasetRows(dir: string, q: DatasetRowsQuery): Promise<{ total: number; rows: DatasetRowView[] }> {
  if (!Number.isInteger(q.offset) || q.offset < 0 || !Number.isInteger(q.limit) || q.limit < 1 || q.limit > 5000) {
    throw new EngineError('BAD_INPUT', `rows query offset ${q.offset} / limit ${q.limit}: give an offset >= 0 and a limit of 1–5000`);
  }
  let rows = await allRows(dir);
  const needle = q.search?.trim().toLowerCase();
  if (q.label !== undefined) rows = rows.filter((r) => r.label === q.label);
  if (needle) rows = rows.filter((r) => [r.anchor, r.positive, r.text, r.label, ...(r.negatives ?? [])].some((t) => t?.toLowerCase().includes(needle)));
  return { total: rows.length, rows: rows.slice(q.offset, q.offset + q.limit) };
}

export async function split(dir: string, o: { evalFraction: number; seed: number }): Promise<{ train: number; eval: number }> {
  return (await splitDataset(dir, o)).counts;
}

/** Σ (in + out) over the default LoRA targets: one rank's worth of A [1, in] and B [out, 1] per adapted linear. */
function loraParamsPerRank(shapes: ReadonlyMap<string, readonly number[]>): number {
  const specs = [...shapes].map(([key, shape]) => ({ key, shape: [...shape], decay: true }));
  return loraAdapters(specs, { rank: 1, alpha: 1, targets: defaultLoraTargets(specs) }).specs.reduce((s, p) => s + p.shape[0] * p.shape[1], 0);
}

export async function describeModel(dir: string): Promise<ModelSummary> {
  const m = await loadEncoderFolder(dir);
  const c = m.config;
  return {
    dir, family: c.family, hidden: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, vocabSize: c.vocabSize,
    params: [...m.params.values()].reduce((s, a) => s + a.length, 0), loraParamsPerRank: loraParamsPerRank(m.shapes), maxLength: m.sentence.maxSeqLength, positions: positionLimit(c),
    pooling: poolingText(m.sentence), normalize: m.sentence.normalize, prompts: m.sentence.prompts, notes: m.notes,
  };
}

export async function previewTemplate(r: TemplatePreviewRequest): Promise<{ final: string; tokens: number | null; truncated: boolean }[]> {
  const tok = r.model ? await modelTokenizer(r.model, r.maxLength) : null;
  return r.texts.map((t) => {
    const final = applyTemplate(r.template, t);
    const tokens = tok ? tok.countTokens(final) : null;
    return { final, tokens, truncated: tok !== null && tokens! > (r.maxLength ?? tok.maxLength) };
  });
}

/** The engine's own reading of a file's first rows (data/preview.ts), as plain data for the import form. */
export async function previewImport(r: ImportPreviewRequest): Promise<ImportPreview> {
  if (typeof r?.file !== 'string' || r.file.trim() === '') {
    throw new EngineError('BAD_INPUT', 'previewImport needs a file: give the full path of a CSV, TSV, JSONL or Parquet file', { setting: 'file' });
  }
  const p = await previewFile(r.file, { format: r.format, map: r.map, delimiter: r.delimiter, encoding: r.encoding, limit: r.limit });
  const issue = (i: ImportIssue) => ({ line: i.line, code: i.code, message: i.message, severity: i.severity });
  return {
    file: p.file,
    kind: p.kind,
    encoding: p.encoding ?? null,
    delimiter: p.delimiter ?? null,
    columns: p.columns,
    // detectMapping refuses 'retrieval' for a single file, so it is one of ImportRequest's formats.
    format: p.mapping.format as ImportPreview['format'],
    roles: p.mapping.roles,
    ignoredColumns: p.mapping.ignored,
    rows: p.rows.map(({ line, row }) => (row ? { ...row, line, skipped: false } : { line, skipped: true })),
    issues: p.issues.map(issue),
    notes: p.notes.map(issue),
    bytes: p.bytes,
    bytesRead: p.bytesRead,
    complete: p.complete,
  };
}

export async function listRuns(projectDir: string | null): Promise<{ dir: string; name: string; steps: number; done: boolean }[]> {
  if (!projectDir) return [];
  const root = join(projectDir, 'runs');
  const names = await readdir(root).catch(() => [] as string[]);
  const runs = [];
  for (const n of names) {
    const dir = join(root, n);
    if (!existsSync(join(dir, 'config.json'))) continue;
    const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
    const steps = text.split('\n').filter(Boolean).length;
    runs.push({ dir, name: n, steps, done: existsSync(join(dir, 'model', 'model.safetensors')), mtime: (await stat(dir)).mtimeMs });
  }
  return runs.sort((a, b) => b.mtime - a.mtime).map(({ mtime: _, ...r }) => r);
}

export async function readRun(dir: string): Promise<RunView> {
  if (!existsSync(join(dir, 'config.json'))) throw new EngineError('NOT_FOUND', `${dir} is not a training run (no config.json); give a folder made by train`, { path: dir });
  const config = (await readJson(join(dir, 'config.json'))) as Record<string, unknown>;
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
  // A line being appended right now may be torn: keep the complete ones.
  const metrics = text.split('\n').flatMap((l) => {
    try {
      return l ? [JSON.parse(l) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
  const model = join(dir, 'model');
  const device = (await readJson(join(dir, 'device.json')).catch(() => null)) as RunView['device'];
  // general-eval.json is written by the forgetting guard after training; a torn or foreign file is left out.
  const general = (await readJson(join(dir, 'general-eval.json')).catch(() => null)) as RunView['general'] | null;
  const hasGeneral = !!general && typeof general === 'object' && !!general.before && !!general.after;
  return { dir, config, metrics, checkpoints: await listCheckpoints(dir), modelDir: existsSync(join(model, 'model.safetensors')) ? model : null, device, ...(hasGeneral ? { general } : {}) };
}

/** A projection file (projection-file.ts), any version: older files come back without neighbours. */
export async function readProjection(file: string): Promise<ProjectionView> {
  const raw = await readJson(file).catch((e: Error) => {
    throw new EngineError('NOT_FOUND', `${file} cannot be read as a projection (${e.message}); make one with the Embeddings page or \`embedsmith umap --out FILE.json\``, { path: file });
  });
  return projectionView(raw, file);
}

export const datasetName = (dir: string) => basename(dir);

/** Snapshots under a Hugging Face hub cache: models--ORG--NAME/refs/REF → snapshots/COMMIT with a config.json. */
export async function listCachedModels(cacheDir: string): Promise<{ repo: string; revision: string; commit: string; dir: string }[]> {
  const out: { repo: string; revision: string; commit: string; dir: string }[] = [];
  for (const name of (await readdir(cacheDir).catch(() => [] as string[])).sort()) {
    if (!name.startsWith('models--')) continue;
    const repo = name.slice('models--'.length).split('--').join('/');
    const refs = join(cacheDir, name, 'refs');
    for (const ref of await readdir(refs).catch(() => [] as string[])) {
      const commit = (await readFile(join(refs, ref), 'utf8').catch(() => '')).trim();
      const dir = join(cacheDir, name, 'snapshots', commit);
      if (commit && existsSync(join(dir, 'config.json'))) out.push({ repo, revision: ref, commit, dir });
    }
  }
  return out;
}
