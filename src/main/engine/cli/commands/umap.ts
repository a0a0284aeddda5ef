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
import { alignByText, applyAlignment } from '../../../../shared/procrustes.js';
import { openModelTools } from '../../mining/embedder.js';
import { renderScatterPng } from '../../projection/png.js';
import { umapJson, type UmapJson } from '../../projection/projection-file.js';
import { embedByRole, projectionTexts } from '../../projection/texts.js';
import { projectUmapWithNeighbours, type EmbeddingNeighbours } from '../../projection/umap.js';
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
  const known = new Set(prev.texts);
  const common = texts.filter((t) => known.has(t)).length;
  if (common < 3) throw new EngineError('BAD_INPUT', `--align ${file}: only ${common} texts in common; align projections of the same dataset`);
  const x = points.filter((_, i) => i % 2 === 0);
  const y = points.filter((_, i) => i % 2 === 1);
  const before = { texts: prev.texts, x: prev.points.map((p) => p[0]), y: prev.points.map((p) => p[1]) };
  const al = alignByText(before, { texts, x, y });
  if (!al) throw new EngineError('BAD_INPUT', `--align ${file}: the ${common} shared texts sit on one spot in one of the projections: there is no rotation or scale to find`);
  const moved = applyAlignment(al, x, y);
  const out = new Float32Array(points.length);
  for (let i = 0; i < moved.x.length; i++) {
    out[2 * i] = moved.x[i];
    out[2 * i + 1] = moved.y[i];
  }
  return out;
}
