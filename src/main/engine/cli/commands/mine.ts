// `embedsmith mine --model MODEL_DIR --data DATASET_DIR --out DATASET_DIR [--negatives 3]
// [--rank-min 10] [--rank-max 100] [--margin M | --relative-margin R] [--max-score S]
// [--sampling top|random] [--corpus DATASET_DIR] [--seed N] [--device …] [--cache DIR] [--json]`
// (DESIGN §6): hard negatives from the model's own ranking, written as a new dataset.
import { join } from 'node:path';
import { openModelTools } from '../../mining/embedder.js';
import { mineDataset } from '../../mining/mine-dataset.js';
import { summarizeRules } from '../../mining/mine-report.js';
import type { MineOptions } from '../../mining/mine.js';
import type { DevicePref } from '../../runtime/index.js';
import { type Out, UsageError, parseOptions, precisionOption, reportError } from './common.js';
import { maxLengthOption, reportTruncation } from './lengths.js';

export const MINE_USAGE =
  'usage: embedsmith mine --model MODEL_DIR --data DATASET_DIR --out DATASET_DIR [--negatives 3] [--rank-min 10] [--rank-max 100] ' +
  '[--margin M | --relative-margin R] [--max-score S] [--sampling top|random] [--corpus DATASET_DIR] [--seed 42] ' +
  "[--max-length N (default: the model's max_seq_length)] [--device auto|cpu|webgpu|cuda] [--precision fp32|fp16|auto] [--cache DIR] [--json]";

export function numberOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

export function deviceOption(v: string | undefined): DevicePref {
  const d = v ?? 'auto';
  if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(d)) throw new UsageError(`--device must be auto, cpu, webgpu or cuda, got '${d}'`);
  return d as DevicePref;
}

export async function mineCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, {
      model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, negatives: { type: 'string' },
      'rank-min': { type: 'string' }, 'rank-max': { type: 'string' }, margin: { type: 'string' }, 'relative-margin': { type: 'string' },
      'max-score': { type: 'string' }, sampling: { type: 'string' }, corpus: { type: 'string' }, seed: { type: 'string' },
      device: { type: 'string' }, cache: { type: 'string' }, json: { type: 'boolean' }, precision: { type: 'string' }, 'max-length': { type: 'string' },
    });
    if (!v.model || !v.data || !v.out) throw new UsageError('--model, --data and --out are required');
    const maxLength = await maxLengthOption('mine', v.model, v['max-length'], out);
    if (v.sampling !== undefined && v.sampling !== 'top' && v.sampling !== 'random') throw new UsageError(`--sampling must be top or random, got '${v.sampling}'`);
    const options: MineOptions = {
      negatives: numberOption('negatives', v.negatives),
      rankMin: numberOption('rank-min', v['rank-min']),
      rankMax: numberOption('rank-max', v['rank-max']),
      margin: numberOption('margin', v.margin),
      relativeMargin: numberOption('relative-margin', v['relative-margin']),
      maxScore: numberOption('max-score', v['max-score']),
      sampling: v.sampling as MineOptions['sampling'],
      seed: numberOption('seed', v.seed),
    };
    for (const k of Object.keys(options) as (keyof MineOptions)[]) if (options[k] === undefined) delete options[k];
    const tools = await openModelTools(v.model, { device: deviceOption(v.device), precision: precisionOption(v.precision), cacheDir: v.cache, maxLength, signal: ctl.signal });
    process.once('SIGINT', onSigint);
    try {
      out.error(`embedsmith mine: model ${v.model} (${tools.model.dim}-d, texts up to ${tools.model.tokenizer.maxLength} tokens) on ${tools.model.device}, ${tools.model.precision}`);
      let last = 0;
      const r = await mineDataset({
        dataDir: v.data, outDir: v.out, embed: tools.embed, search: tools.search, textKey: tools.documentKey, options, corpusDir: v.corpus,
        model: { path: v.model }, signal: ctl.signal,
        onProgress: (p) => {
          if (Date.now() - last < 1000 && p.done < p.total) return;
          last = Date.now();
          out.error(`${p.phase} ${p.done}/${p.total}`);
        },
      });
      const c = r.meta.mining.counts;
      await reportTruncation('mine', v.model, tools, out);
      if (v.json) out.log(JSON.stringify({ dataset: r.dir, counts: c, report: r.report }));
      else {
        out.log(`mined ${c.mined} negatives for ${c.anchors} anchors over ${c.corpus} documents into ${r.dir}`);
        if (c.heldOut > 0) out.log(`${c.heldOut} eval rows (split.json) were held out: not mined, and not candidates for the train rows`);
        for (const line of summarizeRules(r.report)) out.log(line);
        if (c.shortAnchors > 0) out.log(`${c.shortAnchors} anchors got fewer negatives than asked (see ${join(r.dir, 'mining-report.json')})`);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await tools.dispose();
    }
  } catch (err) {
    return reportError('mine', MINE_USAGE, err, out);
  }
}
