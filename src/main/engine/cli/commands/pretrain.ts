// `embedsmith pretrain --model MODEL_DIR --input FILE_OR_DIR --out RUN_DIR [options]`: domain
// pre-training from unlabelled text (train/pretrain/pretrain.ts; E5's recipe). Its own flags
// say how pairs are built and filtered; every other flag is `embedsmith train`'s and is parsed
// by train's own parser, so the two commands cannot drift apart. Ctrl-C stops after the
// running step with a checkpoint; the same command with --resume continues it.
import { createSearcher, type Searcher } from '../../search/search.js';
import { trainingEvaluator } from '../../train/evaluator.js';
import { PRETRAIN_DEFAULTS, type PretrainSettings, pretrainRun } from '../../train/pretrain/pretrain.js';
import { PAIR_KINDS, type PairKind, WEAK_PAIR_DEFAULTS } from '../../train/pretrain/weak-pairs.js';
import type { Evaluate } from '../../train/run.js';
import { helpLine, usageToken, type SettingRow } from '../../../../shared/setting-table.js';
import { type Out, UsageError, intOption, reportError } from './common.js';
import { trainSettingsFromArgs } from './train.js';

/** pretrain's own settings, in the settings table's row shape: its usage line, help and parser read them. */
const OWN_ROWS: SettingRow[] = [
  { key: 'input', flag: 'input', kind: 'path', defaultFrom: 'required', arg: 'FILE_OR_DIR', help: '.txt/.md/.jsonl documents to build weak pairs from' },
  { key: 'pairs', flag: 'pairs', kind: 'names', default: WEAK_PAIR_DEFAULTS.kinds, arg: 'KINDS', help: `pair kinds, separated by commas: ${PAIR_KINDS.join(', ')}` },
  { key: 'keep', flag: 'keep', kind: 'number', default: PRETRAIN_DEFAULTS.keep, help: 'the fraction of pairs the consistency filter keeps, in (0, 1]' },
  { key: 'topK', flag: 'top-k', kind: 'int', default: PRETRAIN_DEFAULTS.topK, help: 'a pair is consistent when its positive ranks within the top N' },
  { key: 'minChars', flag: 'min-chars', kind: 'int', default: WEAK_PAIR_DEFAULTS.minChars, help: 'shortest text kept, in characters' },
  { key: 'maxChars', flag: 'max-chars', kind: 'int', default: WEAK_PAIR_DEFAULTS.maxChars, help: 'longest text kept, in characters' },
  { key: 'maxPairsPerDoc', flag: 'max-pairs-per-doc', kind: 'int', default: WEAK_PAIR_DEFAULTS.maxPairsPerDoc, help: 'pairs taken from one document' },
].map((r) => ({ ...r, doc: r.help, resume: 'match' }) as SettingRow);

export const PRETRAIN_USAGE =
  `usage: embedsmith pretrain --model MODEL_DIR ${usageToken(OWN_ROWS[0])} --out RUN_DIR ${OWN_ROWS.slice(1).map(usageToken).join(' ')} [--batch-size ${PRETRAIN_DEFAULTS.batchSize}] ` +
  '[--max-steps N] [--epochs 1] [--lr R (default by model width, as train)] [--seed 42] [--resume] [every `embedsmith train` option but --data]';

/** pretrain's own flags, for `embedsmith pretrain --help` (train's follow, from the settings table). */
export const PRETRAIN_OWN_HELP = [
  ...OWN_ROWS.map(helpLine),
  `--batch-size N  as train's, with pretrain's default ${PRETRAIN_DEFAULTS.batchSize} (in-batch negatives: E5, cpt)`,
];

/** pretrain's own flags (all take a value); the rest go to train's parser. */
const OWN = new Set(OWN_ROWS.map((r) => r.flag));

export async function pretrainSettingsFromArgs(args: string[]): Promise<{ settings: PretrainSettings; resume: boolean; out: string }> {
  const own: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(args[i]);
    if (m?.[1] === 'data') throw new UsageError('pretrain reads documents with --input FILE_OR_DIR, not a dataset with --data (use `embedsmith train` for a pairs dataset)');
    if (!m || !OWN.has(m[1])) {
      rest.push(args[i]);
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    own[m[1]] = value;
  }
  if (!own.input || !rest.some((a) => a === '--model' || a.startsWith('--model=')) || !rest.some((a) => a === '--out' || a.startsWith('--out='))) {
    throw new UsageError('--model, --input and --out are required');
  }
  // Large batches by default: each query's negatives are the batch's other positives (E5, cpt).
  if (!rest.some((a) => a === '--batch-size' || a.startsWith('--batch-size='))) rest.push('--batch-size', String(PRETRAIN_DEFAULTS.batchSize));
  // train's parser wants --data; each stage sets its own pairs folder (pretrainRun records it empty).
  const { settings: train, resume, out } = await trainSettingsFromArgs([...rest, '--data', 'per-stage']);
  const kinds = own.pairs === undefined ? WEAK_PAIR_DEFAULTS.kinds : own.pairs.split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const k of kinds) if (!(PAIR_KINDS as readonly string[]).includes(k)) throw new UsageError(`--pairs: '${k}' is not a pair kind; kinds are ${PAIR_KINDS.join(', ')}`);
  const keep = own.keep === undefined ? PRETRAIN_DEFAULTS.keep : Number(own.keep);
  if (own.keep !== undefined && (own.keep.trim() === '' || Number.isNaN(keep))) throw new UsageError(`--keep must be a fraction in (0, 1], got '${own.keep}'`);
  const settings: PretrainSettings = {
    input: own.input,
    pairs: {
      kinds: kinds as PairKind[],
      minChars: intOption('min-chars', own['min-chars'], WEAK_PAIR_DEFAULTS.minChars)!,
      maxChars: intOption('max-chars', own['max-chars'], WEAK_PAIR_DEFAULTS.maxChars)!,
      maxPairsPerDoc: intOption('max-pairs-per-doc', own['max-pairs-per-doc'], WEAK_PAIR_DEFAULTS.maxPairsPerDoc)!,
      seed: train.seed,
    },
    topK: intOption('top-k', own['top-k'], PRETRAIN_DEFAULTS.topK)!,
    keep,
    train,
  };
  return { settings, resume, out };
}

export async function pretrainCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  let searcher: Searcher | null = null;
  const onSigint = () => {
    out.error('embedsmith pretrain: stopping after this step (Ctrl-C again to kill; the last checkpoint stays)…');
    ctl.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  try {
    const { settings, resume, out: runDir } = await pretrainSettingsFromArgs(args);
    const train = settings.train;
    searcher = train.eval ? createSearcher({ device: 'cpu' }) : null;
    const evaluate: Evaluate | undefined = train.eval && searcher ? trainingEvaluator(train.eval, train, searcher.search) : undefined;
    process.once('SIGINT', onSigint);
    let last = 0;
    const r = await pretrainRun(settings, runDir, {
      resume,
      signal: ctl.signal,
      evaluate,
      log: (s) => out.error(`embedsmith pretrain: ${s}`),
      onProgress: (stage, p) => {
        const now = Date.now();
        if (p.step < p.totalSteps && now - last < 2000 && !p.eval) return;
        last = now;
        const ev = p.eval ? ' ' + Object.entries(p.eval).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(' ') : '';
        out.error(`stage ${stage} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.pairsPerSec.toFixed(1)} pairs/s eta ${Math.round(p.etaSec)} s${ev}`);
      },
    });
    if (r.cancelled) {
      out.error(`embedsmith pretrain: stopped during ${r.phase}; continue with the same command and --resume`);
      return 1;
    }
    const { pairs, stage1, consistency, stage2 } = r.report;
    out.log(
      `pretrained: ${pairs!.total} weak pairs → stage 1 (${stage1!.steps} steps, final loss ${stage1!.finalLoss?.toFixed(4)}); ` +
        `${consistency!.withinTopK} ranked within the top ${consistency!.topK}, ${consistency!.kept} kept (${(consistency!.keptFraction * 100).toFixed(1)}%) → ` +
        `stage 2 (${stage2!.steps} steps, final loss ${stage2!.finalLoss?.toFixed(4)}); model in ${r.modelDir}`,
    );
    return 0;
  } catch (err) {
    return reportError('pretrain', PRETRAIN_USAGE, err, out);
  } finally {
    process.off('SIGINT', onSigint);
    await searcher?.dispose();
  }
}
