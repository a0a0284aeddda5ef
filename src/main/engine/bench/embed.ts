// Bench: sentence embedding at the MiniLM-L6 shape (random weights from a seeded RNG, saved as
// a model folder with the bert-base-uncased tokenizer) on seeded synthetic texts of 10–200
// tokens (uniform), the same texts and batch size for every row:
//   - ours (embed()'s default): one frozen dynamic-axes session, length-sorted, each batch
//     padded to its own longest text
//   - ours with runtime's createEncoder: a static session per bucket, sorted, √2 length buckets
//   - naive padding: input order, each batch padded to its longest text; input order, every
//     batch padded to 256
//   - transformers.js feature-extraction (mean pooling, normalise) on our ONNX export of the
//     same model, in input order (it pads each batch to its longest text), and pre-sorted
// Rows run in interleaved rounds (median reported) after a warm-up; one-off starts are timed apart.
//
//   bench/run.sh embed [--texts 192] [--rounds 3] [--batch 32] [--device cpu] [--threads N] [--tokenizer DIR] [--seed 1]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type EmbedOptions, embed } from '../model/embed.js';
import { exportOnnx } from '../model/export-onnx.js';
import { type EmbeddingModel, openModel } from '../model/open-model.js';
import { MINILM_L6, writeRandomBert } from '../model/random-model.js';
import { type DevicePref } from '../runtime/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { opt, posInt } from './args.js';

const num = posInt;

/** Texts of n-2 whole-word vocabulary entries (one WordPiece token each), n uniform in [10, 200]. */
function syntheticTexts(vocab: string[], count: number, seed: number): string[] {
  const words = vocab.filter((w) => /^[a-z]{3,}$/.test(w));
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const n = 10 + Math.floor(rnd() * 191);
    return Array.from({ length: n - 2 }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  });
}

/** One way of embedding the texts; `run` returns the embeddings in input order. */
interface Strategy {
  name: string;
  run: () => Promise<Float32Array>;
  /** Real tokens / padded tokens fed, when we can count them (ours). */
  fill?: () => number;
  /** Seconds of the one-off start: sessions (ours) or pipeline load (transformers.js). */
  startSec: number;
  secs: number[];
  out?: Float32Array;
}

function ours(model: EmbeddingModel, name: string, texts: string[], o: EmbedOptions): Strategy {
  let padded = 0;
  const counted: EmbeddingModel = {
    ...model,
    encoder: { ...model.encoder, embed: (d, s) => ((padded += s.batch * s.length), model.encoder.embed(d, s)) },
  };
  const real = texts.reduce((s, t) => s + model.tokenizer.countTokens(t), 0);
  return {
    name,
    startSec: 0,
    secs: [],
    run: () => ((padded = 0), embed(counted, texts, o)),
    fill: () => real / padded,
  };
}

async function transformersJs(dir: string, name: string, texts: string[], batch: number, sorted: boolean): Promise<Strategy> {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir);
  const t0 = performance.now();
  const extractor = await pipeline('feature-extraction', basename(dir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  const order = texts.map((_, i) => i);
  // Characters stand in for tokens here: each synthetic word is one token.
  if (sorted) order.sort((a, b) => texts[b].length - texts[a].length);
  const run = async () => {
    const out = new Float32Array(texts.length * 384);
    for (let s = 0; s < order.length; s += batch) {
      const idx = order.slice(s, s + batch);
      const t = await extractor(idx.map((i) => texts[i]), { pooling: 'mean', normalize: true });
      const data = t.data as Float32Array;
      idx.forEach((i, r) => out.set(data.subarray(r * 384, (r + 1) * 384), i * 384));
    }
    return out;
  };
  return { name, run, startSec: (performance.now() - t0) / 1000, secs: [] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function minCosine(a: Float32Array, b: Float32Array, d: number): number {
  let min = 1;
  for (let r = 0; r < a.length / d; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = r * d; i < (r + 1) * d; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}

async function main(): Promise<void> {
  const count = num('texts', 192);
  const rounds = num('rounds', 3);
  const batchSize = num('batch', 32);
  const device = opt('device', 'cpu') as DevicePref;
  const tokenizerDir = opt('tokenizer', 'test/fixtures/models/bert-wordpiece-uncased');
  const tmp = await mkdtemp(join(tmpdir(), 'embedsmith-bench-embed-'));
  try {
    const dir = join(tmp, 'minilm-random');
    let t = performance.now();
    await writeRandomBert(dir, { ...MINILM_L6, tokenizerDir, seed: num('seed', 1), maxSeqLength: 256 });
    const threads = process.argv.includes('--threads') ? num('threads', 1) : undefined;
    const buckets = await openModel(dir, { device, threads, encoder: 'buckets' });
    await exportOnnx(buckets, dir);
    const written = performance.now() - t;
    t = performance.now();
    const model = await openModel(dir, { device, threads });
    console.log(`model: MiniLM-L6 shape, random weights; folder + ONNX export ${(written / 1000).toFixed(1)} s; openModel (frozen session) ${((performance.now() - t) / 1000).toFixed(1)} s; device ${model.device} (${model.deviceReason})`);
    const vocab = (await readFile(join(tokenizerDir, 'vocab.txt'), 'utf8')).split('\n');
    const texts = syntheticTexts(vocab, count, num('seed', 1));
    const lengths = texts.map((x) => model.tokenizer.countTokens(x));
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    console.log(`texts: ${count}, tokens ${Math.min(...lengths)}–${Math.max(...lengths)} (mean ${mean.toFixed(0)}), batch ${batchSize}\n`);
    t = performance.now();
    // The createEncoder path builds its sessions on first use: time that start on its own.
    const t0 = performance.now();
    await embed(buckets, texts, { batchSize });
    const bucketsStart = (performance.now() - t0) / 1000;
    const rows: Strategy[] = [
      ours(model, 'ours: sorted, exact (default)', texts, { batchSize }),
      { ...ours(buckets, 'ours, createEncoder: sorted, √2 buckets', texts, { batchSize }), startSec: bucketsStart },
      ours(model, 'naive: input order, pad to batch max', texts, { batchSize, sortByLength: false }),
      ours(model, 'naive: input order, pad to 256', texts, { batchSize, sortByLength: false, padTo: 256 }),
      await transformersJs(dir, 'transformers.js (input order)', texts, batchSize, false),
      await transformersJs(dir, 'transformers.js (pre-sorted)', texts, batchSize, true),
    ];
    await rows[0].run(); // warm-up: allocator arenas, thread pools
    await rows[4].run();
    // Interleaved rounds, median per row: this VM's CPU is shared, and a neighbour's burst
    // would otherwise land on whichever row happened to run then.
    for (let round = 0; round < rounds; round++) {
      for (const r of rows) {
        const t1 = performance.now();
        r.out = await r.run();
        r.secs.push((performance.now() - t1) / 1000);
      }
    }
    await model.dispose();
    await buckets.dispose();
    const tjsRate = count / median(rows[4].secs);
    console.log(`${rounds} interleaved rounds; median per row\n`);
    console.log('strategy                                  texts/s  vs tjs   fill   min–max texts/s   start s');
    for (const r of rows) {
      const rate = count / median(r.secs);
      const range = `${(count / Math.max(...r.secs)).toFixed(1)}–${(count / Math.min(...r.secs)).toFixed(1)}`;
      console.log(
        `${r.name.padEnd(41)} ${rate.toFixed(1).padStart(7)}  ${(rate / tjsRate).toFixed(2).padStart(5)}×  ${r.fill ? `${(100 * r.fill()).toFixed(0).padStart(3)}%` : '   — '}  ${range.padStart(15)}  ${r.startSec.toFixed(2).padStart(7)}`,
      );
    }
    console.log(`\nagreement: min row cosine ours vs transformers.js ${minCosine(rows[0].out!, rows[4].out!, 384).toFixed(7)}; default vs createEncoder ${minCosine(rows[0].out!, rows[1].out!, 384).toFixed(7)}`);
    console.log(`fill = real tokens / padded tokens fed; vs tjs = over transformers.js (input order); start s = session creation (ours, createEncoder) or pipeline load (tjs); total ${((performance.now() - t) / 1000).toFixed(0)} s`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
