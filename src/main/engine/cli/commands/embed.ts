// `embedsmith embed --model MODEL_DIR --input FILE [--column NAME] [--role query|document]
// --out FILE.jsonl|FILE.npy [--device auto|cpu|webgpu|cuda] [--batch-size N] [--max-length N]`
// (DESIGN §6). .jsonl: one {"index", "text", "embedding"} per input row, in input order;
// .npy: float32 [N, D]. The output is written beside its target and renamed into place, so
// an interrupted run never leaves half a file under the real name.
import { extname } from 'node:path';
import { type EmbedRole, embedTexts } from '../../model/embed.js';
import { encodeNpy } from '../../model/npy.js';
import { openModel } from '../../model/open-model.js';
import type { DevicePref } from '../../runtime/index.js';
import { writeStreamAtomic } from '../../workspace/atomic.js';
import { checkOutPath } from '../../workspace/out-path.js';
import { type Out, UsageError, intOption, parseOptions, precisionOption, reportError } from './common.js';
import { readInputTexts } from './embed-input.js';

export const EMBED_USAGE =
  'usage: embedsmith embed --model MODEL_DIR --input FILE [--column NAME] [--role query|document] --out FILE.jsonl|FILE.npy ' +
  '[--device auto|cpu|webgpu|cuda] [--precision fp32|fp16|auto] [--batch-size N] [--max-length N] [--dims N]';

export async function embedCommand(args: string[], out: Out): Promise<number> {
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  try {
    const v = parseOptions(args, {
      model: { type: 'string' },
      input: { type: 'string' },
      column: { type: 'string' },
      role: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      precision: { type: 'string' },
      'batch-size': { type: 'string' },
      'max-length': { type: 'string' },
      dims: { type: 'string' },
    });
    if (!v.model || !v.input || !v.out) throw new UsageError(`--model, --input and --out are required`);
    const format = extname(v.out).toLowerCase();
    if (format !== '.jsonl' && format !== '.npy') throw new UsageError(`--out ${v.out}: the output must end in .jsonl or .npy`);
    if (v.role !== undefined && v.role !== 'query' && v.role !== 'document') throw new UsageError(`--role must be query or document, got '${v.role}'`);
    if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(v.device)) throw new UsageError(`--device must be auto, cpu, webgpu or cuda, got '${v.device}'`);
    const precision = precisionOption(v.precision);
    const batchSize = intOption('batch-size', v['batch-size'], 32);
    const maxLength = intOption('max-length', v['max-length']);

    await checkOutPath(v.out, 'file', [{ path: v.input, what: '--input' }, { path: v.model, what: '--model' }]);
    // Read and check the input before loading the model: a typo should not cost a model load.
    const input = await readInputTexts(v.input, v.column);
    for (const n of input.notes) out.error(`embedsmith embed: ${v.input}: ${n}`);
    const model = await openModel(v.model, { device: v.device as DevicePref, maxLength, precision, dims: intOption('dims', v.dims) });
    process.once('SIGINT', onSigint);
    try {
      out.error(`embedsmith embed: ${input.texts.length} texts, ${model.dim}-d, device ${model.device} (${model.deviceReason}), ${model.precision} (${model.precisionReason})`);
      let last = 0;
      const r = await embedTexts(model, input.texts, {
        role: (v.role as EmbedRole | undefined) ?? 'text',
        batchSize,
        signal: ctl.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (p.done < p.total && now - last < 1000) return; // one line a second at most
          last = now;
          out.error(`embedded ${p.done}/${p.total} texts (${p.textsPerSec.toFixed(1)} texts/s)`);
        },
      });
      if (r.truncated.length > 0) {
        const lines = r.truncated.slice(0, 5).map((i) => input.lines[i]);
        out.error(`embedsmith embed: ${r.truncated.length} text(s) were longer than ${model.tokenizer.maxLength} tokens and were truncated (lines ${lines.join(', ')}${r.truncated.length > 5 ? ', …' : ''}); raise --max-length to keep more`);
      }
      if (format === '.npy') await writeOut(v.out, [encodeNpy(r.embeddings, [input.texts.length, r.dim])]);
      else await writeOut(v.out, jsonlChunks(input.texts, r.embeddings, r.dim));
      out.log(`wrote ${input.texts.length} embeddings [${input.texts.length} × ${r.dim}] to ${v.out}`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await model.dispose();
    }
  } catch (err) {
    return reportError('embed', EMBED_USAGE, err, out);
  }
}

/** JSONL lines in chunks of 1000, so a large output is never one giant string. */
function* jsonlChunks(texts: readonly string[], emb: Float32Array, dim: number): Generator<string> {
  for (let start = 0; start < texts.length; start += 1000) {
    let chunk = '';
    for (let i = start; i < Math.min(start + 1000, texts.length); i++) {
      // 9 significant digits round-trip any float32 exactly, and are shorter than the double.
      const vec = Array.from(emb.subarray(i * dim, (i + 1) * dim), (x) => Number(x.toPrecision(9)));
      chunk += `${JSON.stringify({ index: i, text: texts[i], embedding: vec })}\n`;
    }
    yield chunk;
  }
}

async function writeOut(path: string, chunks: Iterable<string | Uint8Array>): Promise<void> {
  // Temp file, fsync, rename, folder fsync: an interrupted run leaves the old output or none.
  await writeStreamAtomic(path, async (write) => {
    for (const c of chunks) await write(c);
  });
}
