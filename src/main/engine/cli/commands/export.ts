// `embedsmith export --model RUN_DIR|MODEL_DIR --out DIR [--format sentence-transformers,onnx,fp16,recipe]`
// (DESIGN §6). sentence-transformers: a complete model folder (save.ts); onnx:
// DIR/onnx/model.onnx; fp16: DIR/onnx/model_fp16.onnx (export-onnx.ts). With the folder
// format the output must be new; ONNX alone may be added to an existing folder (e.g. the
// model folder itself), replacing only the onnx/ files. recipe (train/recipe.ts): RUN_DIR's data,
// prompts and settings as a sentence-transformers training folder for a multi-GPU machine.
import { readdir, stat } from 'node:fs/promises';
import { EngineError } from '../../../../shared/errors.js';
import { exportOnnx } from '../../model/export-onnx.js';
import { modelDir } from '../../model/load.js';
import { outputDims, specOfModel, loadEncoderFolder } from '../../model/open-model.js';
import { saveModelFolder } from '../../model/save.js';
import { exportRecipe } from '../../train/recipe.js';
import { checkOutPath } from '../../workspace/out-path.js';
import { type Out, UsageError, intOption, parseOptions, reportError } from './common.js';

export const EXPORT_USAGE = 'usage: embedsmith export --model RUN_DIR|MODEL_DIR --out DIR [--format sentence-transformers,onnx,fp16 | --format recipe] [--dims N]';
const FORMATS = ['sentence-transformers', 'onnx', 'fp16', 'recipe'] as const;
type Format = (typeof FORMATS)[number];

export async function exportCommand(args: string[], out: Out): Promise<number> {
  try {
    const v = parseOptions(args, { model: { type: 'string' }, out: { type: 'string' }, format: { type: 'string', default: 'sentence-transformers,onnx' }, dims: { type: 'string' } });
    if (!v.model || !v.out) throw new UsageError('--model and --out are required');
    const formats = new Set(v.format.split(',').map((f) => f.trim()).filter(Boolean));
    const unknown = [...formats].filter((f) => !(FORMATS as readonly string[]).includes(f));
    if (unknown.length || formats.size === 0) throw new UsageError(`--format: unknown format(s) ${unknown.join(', ') || '(none)'}; choose from sentence-transformers, onnx, fp16, recipe`);
    const want = (f: Format) => formats.has(f);
    if (want('recipe')) {
      // A training folder, not a model: sharing --out with the model formats would mix the two.
      if (formats.size > 1) throw new UsageError(`--format recipe stands alone (got ${[...formats].join(',')}); export the model formats to another --out`);
      await checkOutPath(v.out, 'folder', [{ path: v.model, what: '--model' }]);
      const r = await exportRecipe(v.model, v.out);
      out.log(`recipe: ${r.outDir} (${r.files.join(', ')}): ${r.trainRows} training rows${r.negatives ? ` with ${r.negatives} negatives each` : ''}${r.evalQueries ? `, ${r.evalQueries} eval queries over ${r.evalCorpus} documents` : ''}`);
      if (r.filled.length) out.log(`the run's config.json predates ${r.filled.join(', ')}: the recipe takes their defaults, as the run did`);
      out.log(`run it there with \`accelerate launch train.py\` (README.md says what it needs and what differs)`);
      return 0;
    }
    const dir = await modelDir(v.model);
    // A model folder over an existing file would replace it (export used to delete notes.txt);
    // inside the model it reads, it would change its own input. ONNX alone may go into the model folder itself.
    await checkOutPath(v.out, 'folder', want('sentence-transformers') ? [{ path: dir, what: '--model' }] : []);
    if (want('sentence-transformers') && (await nonEmpty(v.out))) {
      throw new EngineError('ALREADY_EXISTS', `${v.out} already exists and is not empty; choose a new --out folder (or export only onnx,fp16 into an existing model folder)`, { path: v.out });
    }
    const loaded = await loadEncoderFolder(dir);
    const dims = intOption('dims', v.dims);
    if (dims !== undefined) {
      // Written as sentence-transformers' truncate_dim: loaders keep the first N dimensions.
      loaded.sentence = { ...loaded.sentence, truncateDim: outputDims(loaded, loaded.config.hiddenSize, dims) };
    }
    const spec = specOfModel(loaded);
    if (want('sentence-transformers')) {
      // overwrite only replaces the empty folder checked above (or none).
      await saveModelFolder(loaded, v.out, { overwrite: true, cardFrom: dir });
      out.log(`sentence-transformers folder: ${v.out}`);
    }
    if (want('onnx') || want('fp16')) {
      const files = await exportOnnx({ spec, loaded }, v.out, { fp32: want('onnx'), fp16: want('fp16') });
      if (loaded.sentence.truncateDim) out.log(`onnx: sentence_embedding keeps all ${loaded.config.hiddenSize} dimensions (truncate_dim ${loaded.sentence.truncateDim} is read by sentence-transformers only); cut it to the first ${loaded.sentence.truncateDim} and re-normalise`);
      for (const f of files) {
        const mb = ((await stat(f.path)).size + (f.dataPath ? (await stat(f.dataPath)).size : 0)) / 1e6;
        out.log(`onnx: ${f.path}${f.dataPath ? ` + ${f.dataPath}` : ''} (${mb.toFixed(1)} MB)`);
      }
    }
    return 0;
  } catch (err) {
    return reportError('export', EXPORT_USAGE, err, out);
  }
}

async function nonEmpty(dir: string): Promise<boolean> {
  return readdir(dir).then((e) => e.length > 0, () => false);
}
