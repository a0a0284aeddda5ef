// `embedsmith dataset export DATASET_DIR --out FILE.jsonl|FILE.csv` (DESIGN §6), and
// `dataset split DATASET_DIR [--eval 0.1] [--seed 42]` which writes split.json.
import { parseArgs } from 'node:util';
import { splitDataset } from '../../data/split.js';
import { exportDataset } from '../../data/store.js';
import { UsageError, reportError, type Out } from './common.js';

export const DATASET_USAGE = `Usage: embedsmith dataset export DATASET_DIR --out FILE.jsonl|FILE.csv
       embedsmith dataset split DATASET_DIR [--eval 0.1] [--seed 42]`;

export async function datasetCommand(args: string[], out: Out): Promise<number> {
  try {
    const [sub, ...rest] = args;
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        allowPositionals: true,
        strict: true,
        options: { out: { type: 'string' }, eval: { type: 'string', default: '0.1' }, seed: { type: 'string', default: '42' } },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`give exactly one DATASET_DIR (got ${positionals.length})`);
    const dir = positionals[0];
    if (sub === 'export') {
      if (!values.out) throw new UsageError('--out FILE.jsonl|FILE.csv is required');
      const n = await exportDataset(dir, values.out);
      out.log(`Wrote ${n} rows to ${values.out}.`);
      return 0;
    }
    if (sub === 'split') {
      const evalFraction = Number(values.eval);
      const seed = Number(values.seed);
      if (!(evalFraction > 0 && evalFraction < 1)) throw new UsageError(`--eval must be a fraction between 0 and 1, got '${values.eval}'`);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
      const s = await splitDataset(dir, { evalFraction, seed });
      out.log(`Split ${dir}: ${s.counts.train} train, ${s.counts.eval} eval rows (seed ${seed}); wrote split.json.`);
      return 0;
    }
    throw new UsageError(`unknown dataset command '${sub ?? ''}'; use 'dataset export' or 'dataset split'`);
  } catch (err) {
    return reportError('dataset', DATASET_USAGE, err, out);
  }
}
