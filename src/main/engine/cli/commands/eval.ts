// `embedsmith eval --model MODEL_DIR --data DATASET_DIR [--k 10] [--split eval|all]
// [--corpus DATASET_DIR] [--device …] [--json]` (DESIGN §6): retrieval metrics as
// sentence-transformers' InformationRetrievalEvaluator computes them (or k-NN accuracy and
// macro-F1 for labelled data). --json prints one object keyed by metric name.
import { evaluateDataset } from '../../eval/evaluate.js';
import { openModelTools } from '../../mining/embedder.js';
import { type Out, UsageError, intOption, parseOptions, precisionOption, reportError } from './common.js';
import { maxLengthOption, reportTruncation } from './lengths.js';
import { deviceOption } from './mine.js';

export const EVAL_USAGE =
  "usage: embedsmith eval --model MODEL_DIR --data DATASET_DIR [--k 10] [--split eval|all] [--corpus DATASET_DIR] " +
  "[--max-length N (default: the model's max_seq_length)] [--device auto|cpu|webgpu|cuda] [--precision fp32|fp16|auto] [--cache DIR] [--dims N] [--json]";

export async function evalCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, {
      model: { type: 'string' }, data: { type: 'string' }, k: { type: 'string' }, split: { type: 'string' }, corpus: { type: 'string' },
      device: { type: 'string' }, cache: { type: 'string' }, json: { type: 'boolean' }, dims: { type: 'string' }, precision: { type: 'string' }, 'max-length': { type: 'string' },
    });
    if (!v.model || !v.data) throw new UsageError('--model and --data are required');
    if (v.split !== undefined && v.split !== 'eval' && v.split !== 'all') throw new UsageError(`--split must be eval or all, got '${v.split}'`);
    const k = intOption('k', v.k);
    const maxLength = await maxLengthOption('eval', v.model, v['max-length'], out);
    const tools = await openModelTools(v.model, { device: deviceOption(v.device), precision: precisionOption(v.precision), cacheDir: v.cache, maxLength, signal: ctl.signal, dims: intOption('dims', v.dims) });
    process.once('SIGINT', onSigint);
    try {
      const r = await evaluateDataset({ dataDir: v.data, split: v.split as 'eval' | 'all' | undefined, k, corpusDir: v.corpus, embed: tools.embed, search: tools.search, signal: ctl.signal });
      await reportTruncation('eval', v.model, tools, out);
      if (v.json) {
        out.log(JSON.stringify(r.metrics));
        return 0;
      }
      out.log(`${v.model}${tools.model.dim < tools.model.spec.hidden ? ` at ${tools.model.dim} of ${tools.model.spec.hidden} dimensions` : ''} on ${v.data} (${r.split} rows): ${r.counts.evaluated} queries over ${r.counts.corpus} documents${r.counts.noRelevant ? `, ${r.counts.noRelevant} without a relevant document skipped` : ''}`);
      for (const [name, value] of Object.entries(r.metrics)) out.log(`  ${name.padEnd(16)} ${value.toFixed(4)}`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await tools.dispose();
    }
  } catch (err) {
    return reportError('eval', EVAL_USAGE, err, out);
  }
}
