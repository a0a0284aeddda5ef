// `embedsmith merge --base MODEL_DIR --tuned MODEL_DIR|RUN_DIR --alpha A --out DIR`: the
// forgetting guard's weight interpolation (model/merge.ts) written as a complete model folder.
import { loadEncoderFolder } from '../../model/open-model.js';
import { mergeModels } from '../../model/merge.js';
import { saveModelFolder } from '../../model/save.js';
import { modelDir } from '../../model/load.js';
import { type Out, UsageError, intOption, parseOptions, reportError } from './common.js';
import { deviceOption } from './mine.js';
import { mergeCurve } from '../../eval/merge-curve.js';

export const MERGE_USAGE = 'usage: embedsmith merge --base MODEL_DIR --tuned MODEL_DIR|RUN_DIR (--alpha A --out DIR | --sweep 11 --data DATASET_DIR [--device auto|cpu|webgpu|cuda] [--json])';

export async function mergeCommand(args: string[], out: Out): Promise<number> {
  try {
    const v = parseOptions(args, {
      base: { type: 'string' }, tuned: { type: 'string' }, alpha: { type: 'string' }, out: { type: 'string' },
      sweep: { type: 'string' }, data: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' },
    });
    const load = async (dir: string) => loadEncoderFolder(await modelDir(dir));
    if (v.sweep !== undefined) {
      // The merge slider's curve: domain and general nDCG@10 at each α.
      if (!v.base || !v.tuned || !v.data) throw new UsageError('--sweep needs --base, --tuned and --data (the dataset to score the domain on)');
      const points = intOption('sweep', v.sweep);
      const curve = await mergeCurve(await load(v.base), await load(v.tuned), v.data, {
        points, device: deviceOption(v.device),
        onPoint: (p, done, total) => out.error(`embedsmith merge: point ${done}/${total} (alpha ${p.alpha.toFixed(2)})`),
      });
      if (v.json) out.log(JSON.stringify(curve));
      else {
        out.log(`${'alpha'.padEnd(7)}${'domain nDCG@10'.padStart(16)}${'general nDCG@10'.padStart(17)}`);
        for (const p of curve) out.log(`${p.alpha.toFixed(2).padEnd(7)}${p.domain['ndcg@10']!.toFixed(4).padStart(16)}${p.general['ndcg@10']!.toFixed(4).padStart(17)}`);
      }
      return 0;
    }
    if (!v.base || !v.tuned || !v.out || v.alpha === undefined) throw new UsageError('--base, --tuned, --alpha and --out are required');
    const alpha = Number(v.alpha);
    if (v.alpha.trim() === '' || !Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
      throw new UsageError(`--alpha must be a number from 0 (the base model) to 1 (the tuned model), got '${v.alpha}'`);
    }
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
