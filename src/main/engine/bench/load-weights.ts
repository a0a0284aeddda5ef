// bench/load-weights (issue 14): load a model folder whose model.safetensors is past 2 GiB
// (multilingual-e5-large's shape: vocabulary 250,002 × 1024, 24 layers — 2.24 GB as F32) and
// print the time, the parameter bytes and the peak RSS above them; then time a bad header on
// the same file. The file is sparse (all tensors zero), so it costs no disk and little I/O.
//   node dist/main/engine/bench/load-weights.js [--layers 24] [--dtype F32|BF16]
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelFolder } from '../model/load.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { layers: { type: 'string', default: '24' }, dtype: { type: 'string', default: 'F32' } } });
  const layers = Number(values.layers);
  const dtype = values.dtype === 'BF16' ? 'BF16' : 'F32';
  const width = dtype === 'F32' ? 4 : 2;
  const dir = await mkdtemp(join(tmpdir(), 'es-bench-weights-'));
  try {
    const raw = { model_type: 'xlm-roberta', vocab_size: 250002, hidden_size: 1024, num_hidden_layers: layers, num_attention_heads: 16, intermediate_size: 4096, max_position_embeddings: 514, type_vocab_size: 1, pad_token_id: 1, layer_norm_eps: 1e-5 };
    await writeFile(join(dir, 'config.json'), JSON.stringify(raw));
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const s of paramSpecs(specFromHfConfig(raw))) {
      const bytes = s.shape.reduce((a, b) => a * b, 1) * width;
      header[s.key] = { dtype, shape: s.shape, data_offsets: [at, at + bytes] };
      at += bytes;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const file = join(dir, 'model.safetensors');
    const fh = await open(file, 'w');
    await fh.write(Buffer.concat([len, json]), 0, 8 + json.length, 0);
    await fh.truncate(8 + json.length + at);
    await fh.close();
    const expected = (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw));
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const t0 = performance.now();
    const m = await loadModelFolder(dir, { expected });
    const secs = (performance.now() - t0) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    let paramBytes = 0;
    for (const p of m.params.values()) paramBytes += p.byteLength;
    const gb = (b: number) => (b / 1e9).toFixed(2);
    console.log(`file ${gb(8 + json.length + at)} GB (${dtype}, ${layers} layers): loaded in ${secs.toFixed(2)} s; float32 parameters ${gb(paramBytes)} GB; peak RSS ${gb(peak)} GB, ${gb(peak - rss0 - paramBytes)} GB above start + parameters`);
    // A bad header on the same big file: the first bytes are all that is read.
    const bad = await open(file, 'r+');
    await bad.write(Buffer.from('PK\u0003\u0004'), 0, 4, 8);
    await bad.close();
    const t1 = performance.now();
    const err = await loadModelFolder(dir, { expected }).catch((e: Error) => e);
    console.log(`bad header: refused in ${(performance.now() - t1).toFixed(1)} ms: ${(err as Error).message.slice(0, 110)}…`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
