// Bench: a whole training run, end to end, at the MiniLM-L6 shape (seeded random weights,
// bert-base-uncased vocabulary) on N generated pairs of 8–40-word texts: import → trainRun
// (tokenise, no-duplicates batches, length buckets, one step graph per bucket, checkpoints,
// model/ written) on the chosen device. Prints pairs/s over the run (session creation
// included), steady steps/s, and peak RSS.
//   bench/run.sh train-run [--pairs 10000] [--batch 32] [--max-length 64] [--max-steps N] [--device auto] [--hidden 384] [--layers 6]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDataset } from '../data/index.js';
import { MINILM_L6, writeRandomBert } from '../model/random-model.js';
import { type DevicePref } from '../runtime/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { trainRun } from '../train/run.js';
import { TRAIN_DEFAULTS } from '../train/settings.js';
import { opt } from './args.js';

const TOK = new URL('../../../../test/fixtures/models/bert-wordpiece-uncased', import.meta.url).pathname;

async function main(): Promise<void> {
  const pairs = Number(opt('pairs', '10000'));
  const batch = Number(opt('batch', '32'));
  const maxLength = Number(opt('max-length', '64'));
  const maxSteps = opt('max-steps', '') === '' ? null : Number(opt('max-steps', ''));
  const device = opt('device', 'auto') as DevicePref;
  const dir = await mkdtemp(join(tmpdir(), 'es-bench-train-'));
  try {
    const model = join(dir, 'model');
    const hidden = Number(opt('hidden', String(MINILM_L6.hidden)));
    await writeRandomBert(model, { tokenizerDir: TOK, ...MINILM_L6, hidden, heads: hidden / 32, intermediate: 4 * hidden, layers: Number(opt('layers', '6')), seed: 1 });
    // Words from a fixed list so the WordPiece tokenizer sees real words (~1.3 tokens each).
    const words = 'the of and to in is that for it as with was on be by at this are from or have an they which one you were all we her she there would their will when who him been has more if no out so said what up its about than into them can only other time new some could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
    const rand = mulberry32(7);
    const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');
    const lines = ['anchor,positive'];
    for (let i = 0; i < pairs; i++) lines.push(`q${i} ${text(6 + Math.floor(rand() * 10))},d${i} ${text(10 + Math.floor(rand() * 30))}`);
    await writeFile(join(dir, 'pairs.csv'), lines.join('\n') + '\n');
    await importDataset(join(dir, 'pairs.csv'), join(dir, 'data'));
    const settings = {
      ...TRAIN_DEFAULTS, model, data: join(dir, 'data'), batchSize: batch, maxLength, maxSteps, device, epochs: 1,
      template: { query: '', document: '' }, threads: availableParallelism(), dropout: 0.1, checkpointEvery: 0,
    };
    const t0 = performance.now();
    let steadyFrom = 0;
    let steadyStep = 0;
    let device_ = '';
    const r = await trainRun(settings, join(dir, 'run'), {
      log: (s) => console.log(`  ${s}`),
      onProgress: (p) => {
        if (p.step === 5) {
          steadyFrom = performance.now();
          steadyStep = p.step;
        }
        if (p.step % 50 === 0) console.log(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} ${p.pairsPerSec.toFixed(1)} pairs/s`);
      },
    });
    device_ = r.device;
    const total = (performance.now() - t0) / 1000;
    const steady = (performance.now() - steadyFrom) / 1000;
    const trained = r.steps * batch;
    console.log(`train-run: ${pairs} pairs, MiniLM-shape (${hidden} wide), batch ${batch}, max length ${maxLength}, device ${device_}`);
    console.log(`  ${r.steps} steps in ${total.toFixed(1)} s end to end (incl. sessions, checkpoint, model save): ${(trained / total).toFixed(1)} pairs/s`);
    if (steadyFrom > 0) console.log(`  after step 5: ${((r.steps - steadyStep) / steady).toFixed(2)} steps/s, ${(((r.steps - steadyStep) * batch) / steady).toFixed(1)} pairs/s`);
    console.log(`  final loss ${r.finalLoss?.toFixed(4)}; peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
