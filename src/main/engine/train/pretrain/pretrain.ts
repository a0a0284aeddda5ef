// Domain pre-training from unlabelled text, as a run (`embedsmith pretrain`): the two-stage
// recipe of E5 (Wang et al. 2022) — weak pairs from document structure, contrastive training
// with in-batch negatives at a large batch (E5 and cpt both found batch size the main lever:
// more in-batch negatives per query), consistency filtering with the trained model, and a
// second round on the cleaned pairs. cpt (Neelakantan et al. 2022) trains on neighbouring
// text the same way. Layout of RUN_DIR:
//
//   stage1-pairs/   the weak pairs as a pairs dataset (label = pair kind)
//   stage1/         trainRun on them from the base model
//   stage2-pairs/   the pairs the stage-1 model ranks consistently
//   consistency.jsonl  every stage-1 pair's rank and score under the stage-1 model
//   stage2/         trainRun on the kept pairs from stage1/model
//   model/          the final model (a copy of stage2/model)
//   pretrain.json   settings, counts per pair kind, kept fraction, both stages' final losses
//
// pretrain.json is rewritten after each phase; --resume skips finished phases and resumes an
// unfinished stage through trainRun's own checkpoints, so a stopped run continues exactly.

import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EngineError } from '../../../../shared/errors.js';
import { importDataset } from '../../data/import.js';
import { readDatasetRows } from '../../data/store.js';
import { Sink } from '../../data/write-folder.js';
import { openModelTools } from '../../mining/embedder.js';
import { checkOutPath } from '../../workspace/out-path.js';
import { syncDir, syncTree, tempPathFor, writeJsonAtomic, writeStreamAtomic } from '../../workspace/atomic.js';
import { type StepRecord, type TrainHooks, type TrainProgress, trainRun, withRunFolder } from '../run.js';
import { type TrainSettings, checkSettings, resumeMismatch } from '../settings.js';
import { checkConsistencyOptions, consistencyFilter } from './consistency.js';
import { type DocumentSet, readDocuments } from './documents.js';
import { PAIR_KINDS, type PairKind, type WeakPairCounts, type WeakPairOptions, checkWeakPairOptions, weakPairs } from './weak-pairs.js';

export interface PretrainSettings {
  /** A .txt/.md/.jsonl file or a folder of them. */
  input: string;
  /** How pairs are built (kinds, lengths, per-document cap, seed). */
  pairs: WeakPairOptions;
  /** Consistency filter: a pair survives when its positive ranks <= topK (E5: 2). */
  topK: number;
  /** …and at most this fraction of all stage-1 pairs goes on to stage 2. */
  keep: number;
  /** Both stages' training settings; `model` is the base model, `data` is set per stage. */
  train: TrainSettings;
}

export const PRETRAIN_DEFAULTS = { topK: 2, keep: 0.5, batchSize: 64 } as const;

export type PretrainPhase = 'pairs' | 'stage1' | 'consistency' | 'stage2' | 'done';

export interface StageReport {
  pairs: number;
  steps: number;
  totalSteps: number;
  /** Loss of the last applied step (from metrics.jsonl, so a resumed stage reports it too). */
  finalLoss: number | null;
  skippedSteps: number;
  device: string;
}

export interface ConsistencyReport {
  topK: number;
  keep: number;
  pairs: number;
  pool: number;
  withinTopK: number;
  kept: number;
  keptFraction: number;
  byKind: Partial<Record<PairKind, { pairs: number; withinTopK: number; kept: number }>>;
}

/** RUN_DIR/pretrain.json. */
export interface PretrainReport {
  settings: PretrainSettings;
  status: 'running' | 'done';
  documents?: Omit<DocumentSet, 'documents'> & { documents: number };
  pairs?: WeakPairCounts & { total: number };
  stage1?: StageReport;
  consistency?: ConsistencyReport;
  stage2?: StageReport;
  modelDir?: string;
}

export interface PretrainHooks extends Omit<TrainHooks, 'onProgress'> {
  onProgress?: (stage: 1 | 2, p: TrainProgress) => void;
}

export interface PretrainResult {
  runDir: string;
  /** Stopped by the signal during `phase`; --resume continues from there. */
  cancelled: boolean;
  phase: PretrainPhase;
  modelDir: string | null;
  report: PretrainReport;
}

export function checkPretrainSettings(s: PretrainSettings): PretrainSettings {
  checkWeakPairOptions(s.pairs);
  checkConsistencyOptions(s.topK, s.keep);
  // `data` is each stage's own pairs folder, made from --input: the table's check sees that name.
  checkSettings({ ...s.train, data: s.input });
  // `data` is recorded empty so --resume compares like with like.
  return { ...s, input: resolve(s.input), train: { ...s.train, model: resolve(s.train.model), data: '' } };
}

export async function pretrainRun(settingsIn: PretrainSettings, runDirIn: string, opts: { resume?: boolean } & PretrainHooks = {}): Promise<PretrainResult> {
  const settings = checkPretrainSettings(settingsIn);
  await checkOutPath(runDirIn, 'folder', [{ path: settings.input, what: '--input' }, { path: settings.train.model, what: '--model' }]);
  return withRunFolder(resolve(runDirIn), opts.log, () => pretrainLocked(settings, resolve(runDirIn), opts));
}

async function pretrainLocked(settings: PretrainSettings, runDir: string, opts: { resume?: boolean } & PretrainHooks): Promise<PretrainResult> {
  const reportPath = join(runDir, 'pretrain.json');
  const log = opts.log ?? (() => {});
  const at = (name: string) => join(runDir, name);
  let report: PretrainReport = { settings, status: 'running' };
  if (existsSync(reportPath) && !opts.resume) {
    throw new EngineError('ALREADY_EXISTS', `${runDir} already holds a pretrain run; continue it with --resume or choose another --out`, { path: runDir });
  }
  if (opts.resume) {
    if (!existsSync(reportPath)) throw new EngineError('NOT_FOUND', `--resume: ${runDir} has no pretrain.json, so there is no run to continue; drop --resume to start one`, { path: runDir });
    report = JSON.parse(await readFile(reportPath, 'utf8')) as PretrainReport;
    const diff = settingsMismatch(report.settings, settings);
    if (diff) throw new EngineError('BAD_INPUT', `--resume: the settings differ from the run's pretrain.json (${diff}); resume with the same settings or start a new run`, { path: reportPath });
    report.settings = settings; // the device may differ; it does not change the numbers' meaning
  }
  await mkdir(runDir, { recursive: true });
  const save = () => writeJsonAtomic(reportPath, report);
  const done = (phase: PretrainPhase, cancelled: boolean): PretrainResult => ({ runDir, cancelled, phase, modelDir: report.modelDir ?? null, report });
  // pretrain.json appears once the pairs exist: a corpus refused as too small leaves no run to --resume.

  if (!report.pairs) {
    if (opts.signal?.aborted) return done('pairs', true);
    const docs = await readDocuments(settings.input);
    const { pairs, counts } = weakPairs(docs.documents, settings.pairs);
    const byKind = PAIR_KINDS.filter((k) => counts.pairs[k] > 0).map((k) => `${counts.pairs[k]} ${k}`).join(', ');
    log(`${docs.documents.length} documents from ${docs.files} file(s)${docs.skipped ? ` (${docs.skipped} skipped)` : ''}: ${pairs.length} weak pairs (${byKind || 'none'}); dropped ${counts.tooShort} too short, ${counts.duplicates} duplicate, ${counts.capped} over the per-document cap`);
    if (pairs.length < 2) {
      throw new EngineError(
        'BAD_INPUT',
        `${settings.input} gave ${pairs.length} weak pair(s) from ${docs.documents.length} document(s) (kinds ${settings.pairs.kinds.join(', ')}; ${counts.tooShort} too short, ${counts.duplicates} duplicate); in-batch negatives need at least 2. Fix: give more or longer documents (titles, '#' headings, blank-line paragraphs), add kinds with --pairs ${PAIR_KINDS.join(',')}, or lower --min-chars (${settings.pairs.minChars}).`,
        { setting: 'input', pairs: pairs.length },
      );
    }
    await writePairs(at('stage1-pairs'), pairs.map((p) => ({ anchor: p.anchor, positive: p.positive, label: p.kind })));
    const { documents, ...rest } = docs;
    report.documents = { ...rest, documents: documents.length };
    report.pairs = { ...counts, total: pairs.length };
    await save();
  }

  if (!report.stage1) {
    const r = await stage(1, settings.train.model, 'stage1-pairs', report.pairs!.total);
    if (!r) return done('stage1', true);
    report.stage1 = r;
    await save();
  }

  if (!report.consistency) {
    if (opts.signal?.aborted) return done('consistency', true);
    try {
      report.consistency = await filterPairs();
    } catch (err) {
      if (err instanceof EngineError && err.code === 'CANCELLED') return done('consistency', true);
      throw err;
    }
    await save();
  }

  if (!report.stage2) {
    const r = await stage(2, join(at('stage1'), 'model'), 'stage2-pairs', report.consistency.kept);
    if (!r) return done('stage2', true);
    report.stage2 = r;
    await save();
  }

  // Copy beside, then rename: RUN_DIR/model is either absent or complete.
  const modelDir = at('model');
  const temp = tempPathFor(modelDir);
  await cp(join(at('stage2'), 'model'), temp, { recursive: true });
  await syncTree(temp);
  await rm(modelDir, { recursive: true, force: true });
  await rename(temp, modelDir);
  await syncDir(runDir);
  report.modelDir = modelDir;
  report.status = 'done';
  await save();
  log(`model written to ${modelDir}: stage 1 on ${report.stage1.pairs} pairs (final loss ${report.stage1.finalLoss?.toFixed(4)}), stage 2 on ${report.stage2.pairs} (final loss ${report.stage2.finalLoss?.toFixed(4)})`);
  return done('done', false);

  /** One training stage; null when the signal stopped it (its checkpoint holds the state). */
  async function stage(n: 1 | 2, model: string, data: string, pairs: number): Promise<StageReport | null> {
    const dir = at(`stage${n}`);
    const s: TrainSettings = { ...settings.train, model, data: at(data) };
    // Only under --resume: a fresh run meeting a stage folder refuses it (trainRun's ALREADY_EXISTS).
    const resume = opts.resume === true && existsSync(join(dir, 'config.json'));
    log(`stage ${n}: training on ${pairs} pairs from ${model}${resume ? ' (resuming)' : ''}`);
    const r = await trainRun(s, dir, {
      resume,
      signal: opts.signal,
      evaluate: opts.evaluate,
      log: (line) => log(`stage ${n}: ${line}`),
      onProgress: (p) => opts.onProgress?.(n, p),
    });
    if (r.cancelled) {
      log(`stage ${n} stopped at step ${r.steps} of ${r.totalSteps}; continue with --resume`);
      return null;
    }
    return { pairs, steps: r.steps, totalSteps: r.totalSteps, finalLoss: await lastLoss(dir), skippedSteps: r.skippedSteps, device: r.device };
  }

  async function filterPairs(): Promise<ConsistencyReport> {
    const rows: { anchor: string; positive: string; label: string; line: number }[] = [];
    for await (const row of readDatasetRows(at('stage1-pairs'), { onWarning: log })) rows.push({ anchor: row.anchor ?? '', positive: row.positive ?? '', label: row.label ?? '', line: row.line });
    const t = settings.train;
    const tools = await openModelTools(join(at('stage1'), 'model'), { device: t.device, precision: t.precision, template: { query: t.template.query, document: t.template.document }, maxLength: t.maxLength, signal: opts.signal });
    let result;
    try {
      log(`consistency: ranking ${rows.length} pairs with the stage-1 model (top-${settings.topK}, keep ${settings.keep})`);
      result = await consistencyFilter(rows, { embed: tools.embed, search: tools.search, topK: settings.topK, keep: settings.keep });
    } finally {
      await tools.dispose();
    }
    const { counts, verdicts, kept } = result;
    const byKind: ConsistencyReport['byKind'] = {};
    rows.forEach((r, i) => {
      const k = (byKind[r.label as PairKind] ??= { pairs: 0, withinTopK: 0, kept: 0 });
      k.pairs++;
      if (verdicts[i].rank !== null) k.withinTopK++;
      if (verdicts[i].kept) k.kept++;
    });
    log(`consistency: ${counts.withinTopK} of ${counts.pairs} pairs rank their positive within the top ${settings.topK} of ${counts.pool}; keeping ${counts.kept}`);
    if (kept.length < 2) {
      throw new EngineError(
        'BAD_INPUT',
        `consistency filtering kept ${kept.length} of ${counts.pairs} pairs (${counts.withinTopK} within the top ${settings.topK}); stage 2 needs at least 2. Fix: raise --top-k (${settings.topK}) or --keep (${settings.keep}), or train stage 1 longer (--epochs, --max-steps), then run again with a new --out.`,
        { setting: 'keep', kept: kept.length },
      );
    }
    await writeStreamAtomic(at('consistency.jsonl'), async (write) => {
      let buf = '';
      for (let i = 0; i < rows.length; i++) {
        buf += JSON.stringify({ line: rows[i].line, kind: rows[i].label, ...verdicts[i] }) + '\n';
        if (buf.length >= 1 << 20) {
          await write(buf);
          buf = '';
        }
      }
      await write(buf);
    });
    await writePairs(at('stage2-pairs'), kept.map((i) => ({ anchor: rows[i].anchor, positive: rows[i].positive, label: rows[i].label })));
    return { topK: settings.topK, keep: settings.keep, ...counts, keptFraction: counts.kept / counts.pairs, byKind };
  }
}

/** Writes pairs as a JSONL source and imports it as a pairs dataset at `dir` (label = kind). */
async function writePairs(dir: string, rows: { anchor: string; positive: string; label: string }[]): Promise<void> {
  // pretrain.json does not list this phase as done, so anything here is a stopped attempt's.
  await rm(dir, { recursive: true, force: true });
  const source = join(dirname(dir), `.${basename(dir)}.source.jsonl`);
  await rm(source, { force: true });
  const sink = new Sink(source);
  try {
    for (const r of rows) await sink.write(JSON.stringify(r));
    await sink.close();
    const imported = await importDataset(source, dir, { format: 'pairs', name: basename(dir) });
    if (imported.meta.counts.rows !== rows.length) {
      const first = imported.report.issues.find((i) => i.severity === 'error');
      throw new EngineError('BAD_INPUT', `${imported.meta.counts.skipped} of ${rows.length} weak pairs could not be imported (${first?.message ?? 'see report.json'}). Fix: clean those documents (NUL bytes, binary content) and run again.`, { dir });
    }
  } finally {
    sink.destroy();
    await rm(source, { force: true });
  }
}

async function lastLoss(runDir: string): Promise<number | null> {
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    const r = JSON.parse(lines[i]) as StepRecord;
    if (!r.skipped) return r.loss;
  }
  return null;
}

function settingsMismatch(saved: PretrainSettings, now: PretrainSettings): string | null {
  for (const k of ['input', 'pairs', 'topK', 'keep'] as const) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(now[k])) return `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`;
  }
  return resumeMismatch(saved.train, now.train);
}
