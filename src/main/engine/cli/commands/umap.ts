// `embedsmith umap --model MODEL_DIR --data DATASET_DIR --out FILE.json|FILE.png
// [--color-by label] [--align PREVIOUS.json] [--seed 42] [--neighbors 15] [--epochs N]` (DESIGN §6):
// the dataset's texts embedded and projected to 2-D with UMAP (our exact k-NN graph, fuzzy simplicial set and layout; projection/).
// JSON: {schemaVersion, points, labels, texts, neighbours} (projection-file.ts: each point's 10
// nearest texts by cosine, from the same k-NN search); PNG: a scatter coloured by label.
// --align rotates/scales the projection onto an earlier one (Procrustes over the same texts)
// so before/after compare.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { EngineError } from '../../../../shared/errors.js';
import { openModelTools } from '../../mining/embedder.js';
import { renderScatterPng } from '../../projection/png.js';
import { umapJson, type UmapJson } from '../../projection/projection-file.js';
import { embedByRole, projectionTexts } from '../../projection/texts.js';
import { alignProcrustes, projectUmapWithNeighbours, type EmbeddingNeighbours } from '../../projection/umap.js';
import { writeFileAtomic } from '../../workspace/atomic.js';
import { checkOutPath } from '../../workspace/out-path.js';
import { type Out, UsageError, intOption, parseOptions, reportError } from './common.js';
import { maxLengthOption, reportTruncation } from './lengths.js';
import { deviceOption } from './mine.js';

export const UMAP_USAGE =
  'usage: embedsmith umap --model MODEL_DIR --data DATASET_DIR --out FILE.json|FILE.png [--color-by label] [--align EARLIER.json] ' +
  '[--seed 42] [--neighbors 15] [--epochs N] [--limit N] [--max-length N] [--device auto|cpu|webgpu|cuda]';

export async function umapCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, {
      model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, 'color-by': { type: 'string' }, align: { type: 'string' },
      seed: { type: 'string' }, neighbors: { type: 'string' }, epochs: { type: 'string' }, limit: { type: 'string' }, device: { type: 'string' }, 'max-length': { type: 'string' },
    });
    if (!v.model || !v.data || !v.out) throw new UsageError('--model, --data and --out are required');
    const ext = extname(v.out).toLowerCase();
    if (ext !== '.json' && ext !== '.png') throw new UsageError(`--out ${v.out}: give a .json or .png file name`);
    await checkOutPath(v.out, 'file', [{ path: v.model, what: '--model' }, { path: v.data, what: '--data' }]);
    const colorBy = v['color-by'] ?? 'label';
    if (colorBy !== 'label' && colorBy !== 'none') throw new UsageError(`--color-by must be label or none, got '${colorBy}'`);
    const seed = v.seed === undefined ? 42 : Number(v.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${v.seed}'`);
    const limit = intOption('limit', v.limit, 20000)!;

    // One point per distinct text: anchors (query role) and positives (document role), or labelled texts.
    const p = await projectionTexts(v.data, { positives: true, limit, label: (row, role) => (colorBy === 'label' ? (row.label ?? role) : null) });
    const { texts, labels } = p;
    if (texts.length < 3) throw new EngineError('BAD_INPUT', `${v.data} has ${texts.length} distinct texts; a projection needs at least 3`);
    const maxLength = await maxLengthOption('umap', v.model, v['max-length'], out);
    const tools = await openModelTools(v.model, { device: deviceOption(v.device), maxLength, signal: ctl.signal });
    process.once('SIGINT', onSigint);
    let points: Float32Array;
    let neighbours: EmbeddingNeighbours;
    try {
      const dim = tools.model.dim;
      const emb = await embedByRole(p, dim, tools.embed);
      out.error(`embedsmith umap: ${texts.length} texts embedded (${dim}-d on ${tools.model.device}); projecting…`);
      await reportTruncation('umap', v.model, tools, out);
      ({ layout: points, neighbours } = await projectUmapWithNeighbours(emb, dim, {
        seed, nNeighbors: intOption('neighbors', v.neighbors, 15), nEpochs: intOption('epochs', v.epochs), neighbours: 10, search: tools.search, signal: ctl.signal,
      }));
    } finally {
      process.off('SIGINT', onSigint);
      await tools.dispose();
    }
    if (v.align) points = await alignTo(v.align, texts, points);
    if (ext === '.png') await writeFileAtomic(v.out, renderScatterPng(points, labels));
    else await writeFileAtomic(v.out, JSON.stringify(umapJson(points, labels, texts, neighbours)) + '\n');
    out.log(`wrote ${texts.length} points to ${v.out}`);
    return 0;
  } catch (err) {
    return reportError('umap', UMAP_USAGE, err, out);
  }
}

/** Procrustes onto an earlier projection of the same texts (matched by text). */
async function alignTo(file: string, texts: string[], points: Float32Array): Promise<Float32Array> {
  const prev = JSON.parse(await readFile(file, 'utf8')) as UmapJson;
  const at = new Map(prev.texts.map((t, i) => [t, i]));
  const common = texts.flatMap((t, i) => (at.has(t) ? [i] : []));
  if (common.length < 3) throw new EngineError('BAD_INPUT', `--align ${file}: only ${common.length} texts in common; align projections of the same dataset`);
  const ref = new Float32Array(common.length * 2);
  const mov = new Float32Array(common.length * 2);
  common.forEach((i, j) => {
    const p = prev.points[at.get(texts[i])!];
    ref.set(p, j * 2);
    mov.set(points.subarray(i * 2, i * 2 + 2), j * 2);
  });
  const a = alignProcrustes(ref, mov);
  const [r00, r01, r10, r11] = a.rotation;
  // The fitted transform on every point, as procrustes.ts defines it: aligned = scale · [x y] · R + translation.
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    out[i] = a.scale * (x * r00 + y * r10) + a.translation[0];
    out[i + 1] = a.scale * (x * r01 + y * r11) + a.translation[1];
  }
  return out;
}
