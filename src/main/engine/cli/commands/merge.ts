// `embedsmith merge --base MODEL_DIR --tuned MODEL_DIR|RUN_DIR --alpha A --out DIR`: the
// forgetting guard's weight interpolation (model/merge.ts) written as a complete model folder.
import { loadModelFolder } from '../../model/load.js';
import { mergeModels } from '../../model/merge.js';
import { saveModelFolder } from '../../model/save.js';
import { paramSpecs, specFromHfConfig } from '../../nn/index.js';
import { modelDir } from './export.js';
import { type Out, UsageError, parseOptions, reportError } from './common.js';

export const MERGE_USAGE = 'usage: embedsmith merge --base MODEL_DIR --tuned MODEL_DIR|RUN_DIR --alpha A --out DIR';

export async function mergeCommand(args: string[], out: Out): Promise<number> {
  try {
    const v = parseOptions(args, { base: { type: 'string' }, tuned: { type: 'string' }, alpha: { type: 'string' }, out: { type: 'string' } });
    if (!v.base || !v.tuned || !v.out || v.alpha === undefined) throw new UsageError('--base, --tuned, --alpha and --out are required');
    const alpha = Number(v.alpha);
    if (v.alpha.trim() === '' || !Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
      throw new UsageError(`--alpha must be a number from 0 (the base model) to 1 (the tuned model), got '${v.alpha}'`);
    }
    const load = async (dir: string) => loadModelFolder(await modelDir(dir), { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) });
    const [base, tuned] = [await load(v.base), await load(v.tuned)];
    const merged = mergeModels(base, tuned, alpha);
    await saveModelFolder(merged.model, v.out);
    out.log(`merged ${merged.interpolated} tensors as ${(1 - alpha).toPrecision(3)} × base + ${alpha.toPrecision(3)} × tuned into ${v.out}`);
    for (const n of merged.notes) out.log(`  ${n}`);
    return 0;
  } catch (err) {
    return reportError('merge', MERGE_USAGE, err, out);
  }
}
