// export --format recipe: the files hold the run's training side, train.py's RECIPE literal
// (read back by Python's own parser) matches the run's config.json, the script compiles, and,
// run against recording stand-ins for sentence-transformers, hands those values on.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset, splitDataset } from '../data/index.js';
import { writeRandomBert } from '../model/random-model.js';
import { buildRecipe, exportRecipe, hubOrigin, recipeLoss } from './recipe.js';
import { pyLiteral } from './recipe-script.js';
import { writeFakeSentenceTransformers } from './recipe-testing.js';
import { trainRun } from './run.js';
import { epochBatches } from './sampler.js';
import { TRAIN_DEFAULTS, type TrainSettings } from './settings.js';

const TOK = join(import.meta.dirname, '../../../../test/fixtures/models/bert-wordpiece-uncased');
const PY = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['--version']).status === 0) ?? null;
const NO_PY = PY ? '' : ' — SKIPPED: python3 not found';
const W = 'apple river stone cloud music garden window paper silver engine forest candle'.split(' ');
let root: string, model: string, data: string, run: string, fakes: string;
let csv: string[][];
const SHARED = [0, 4, 5, 8];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-recipe-'));
  model = join(root, 'model');
  await writeRandomBert(model, { tokenizerDir: TOK, hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 5 });
  // Row i+2's positive is row i's first negative: the no-duplicates rule must keep them apart
  // (four such pairs, so the 3 held-out rows leave at least one in training).
  csv = W.map((w, i) => [`what is ${w}`, `${w} is thing ${i}`, `not ${W[(i + 3) % 12]}`, `maybe ${W[(i + 5) % 12]}`]);
  for (const i of SHARED) csv[i + 2][1] = csv[i][2];
  await writeFile(join(root, 't.csv'), ['anchor,positive,negative_1,negative_2', ...csv.map((r) => r.join(','))].join('\n') + '\n');
  data = join(root, 'data');
  await importDataset(join(root, 't.csv'), data);
  await splitDataset(data, { evalFraction: 0.25, seed: 1 });
  run = join(root, 'run');
  await trainRun(settings({ maxSteps: 2, shuffle: false, warmup: 0.25, dropout: 0.1 }), run);
  fakes = join(root, 'fakes');
  await writeFakeSentenceTransformers(fakes);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function settings(o: Partial<TrainSettings> = {}): TrainSettings {
  return { ...TRAIN_DEFAULTS, model, data, threads: 1, device: 'cpu', batchSize: 4, lr: 1e-4, maxLength: 24, template: { query: 'query: ', document: 'passage: ' }, ...o };
}
const readJson = async (p: string) => JSON.parse(await readFile(p, 'utf8'));
const lines = async (p: string) => (await readFile(p, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** A run folder holding only config.json: export reads nothing else. */
async function fakeRun(name: string, o: Partial<TrainSettings> | Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...settings(), ...o }));
  return dir;
}

function python(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(PY!, args, { encoding: 'utf8', input, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** train.py's RECIPE as Python itself parses it. */
function recipeOf(script: string) {
  const code = 'import ast,json,sys\nt=ast.parse(open(sys.argv[1]).read())\nv=[n.value for n in t.body if isinstance(n,ast.Assign) and getattr(n.targets[0],"id","")=="RECIPE"][0]\nprint(json.dumps(ast.literal_eval(v)))';
  const r = python(['-c', code, script]);
  expect(r.err).toBe('');
  return JSON.parse(r.out);
}

async function fakeTrain(dir: string, env: Record<string, string> = {}) {
  const record = join(dir, 'record.json');
  const r = python([join(dir, 'train.py')], { PYTHONPATH: fakes, FAKE_RECORD: record, ...env });
  return { ...r, rec: r.code === 0 ? await readJson(record) : null };
}

describe('exportRecipe', () => {
  it('writes the training side without templates, and the eval set `embedsmith eval` would search', async () => {
    const out = join(root, 'r1');
    const r = await exportRecipe(run, out);
    expect(r.files).toEqual(['train.jsonl', 'eval.json', 'train.py', 'requirements.txt', 'recipe.json', 'README.md']);
    const held = new Set<number>((await readJson(join(data, 'split.json'))).eval);
    expect(held.size).toBe(3);
    const train = csv.filter((_, i) => !held.has(i));
    expect(await lines(join(out, 'train.jsonl'))).toEqual(train.map(([anchor, positive, negative_1, negative_2]) => ({ anchor, positive, negative_1, negative_2 })));
    const ev = await readJson(join(out, 'eval.json'));
    const asked = Object.entries(ev.queries as Record<string, string>).map(([q, text]) => [text, ev.relevant_docs[q].map((d: string) => ev.corpus[d])]);
    expect(asked.sort()).toEqual(csv.filter((_, i) => held.has(i)).map((c) => [c[0], [c[1]]]).sort());
    // Every row's documents, training rows' too: the search is as hard as in use.
    expect(new Set(Object.values(ev.corpus))).toEqual(new Set(csv.flatMap((c) => c.slice(1))));
    expect(r).toMatchObject({ trainRows: 9, negatives: 2, evalQueries: 3, evalCorpus: new Set(csv.flatMap((c) => c.slice(1))).size, filled: [] });
    const saved = await readJson(join(out, 'recipe.json'));
    expect(saved.settings).toEqual(await readJson(join(run, 'config.json')));
    await expect(exportRecipe(run, out)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it.skipIf(!PY)(`train.py compiles, and its RECIPE is the run's config.json${NO_PY}`, async () => {
    const out = join(root, 'r2');
    await exportRecipe(run, out);
    expect(python(['-m', 'py_compile', join(out, 'train.py')])).toMatchObject({ code: 0, err: '' });
    const c = (await readJson(join(run, 'config.json'))) as TrainSettings;
    const r = recipeOf(join(out, 'train.py'));
    expect(r.args).toMatchObject({
      learning_rate: c.lr, weight_decay: c.weightDecay, max_grad_norm: c.maxGradNorm, num_train_epochs: c.epochs, max_steps: c.maxSteps,
      seed: c.seed, data_seed: c.seed, lr_scheduler_type: 'linear', dataloader_drop_last: false, eval_strategy: 'no', load_best_model_at_end: false,
    });
    expect(r).toMatchObject({ batch_size: c.batchSize, warmup: c.warmup, max_seq_length: c.maxLength, dropout: c.dropout, shuffle: c.shuffle, early_stopping_patience: 0 });
    expect(r.loss).toEqual({ name: 'MultipleNegativesRankingLoss', kwargs: { scale: 1 / c.temperature, gather_across_devices: true } });
    const doc = c.template.document;
    expect(r.prompts).toEqual({ anchor: c.template.query, positive: doc, negative_1: doc, negative_2: doc });
    expect(r.model_prompts).toEqual({ query: c.template.query, document: doc });
    expect(r.base_model).toEqual({ path: resolve(c.model), hub_id: null, revision: null });
    expect(r.eval).toMatchObject({ file: 'eval.json', during_training: false });
  });

  it.skipIf(!PY)(`train.py hands the run's settings to sentence-transformers and writes Embedsmith's run layout${NO_PY}`, async () => {
    const out = join(root, 'r3');
    await exportRecipe(run, out);
    const c = (await readJson(join(run, 'config.json'))) as TrainSettings;
    const { code, err, rec } = await fakeTrain(out);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(rec.model).toEqual({ name: resolve(c.model), revision: null, config_kwargs: { hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: c.dropout } });
    expect(rec.args).toMatchObject({ learning_rate: c.lr, per_device_train_batch_size: c.batchSize, warmup_steps: c.warmup, max_steps: c.maxSteps, bf16: false, batch_sampler: '<class>' });
    expect(rec.loss).toMatchObject({ scale: 1 / c.temperature, gather_across_devices: true, directions: ['query_to_doc'] });
    // --no-shuffle: the script's sampler against Embedsmith's, on the same rows.
    const train = await lines(join(out, 'train.jsonl'));
    expect(rec.batches).toEqual(epochBatches((i) => Object.values(train[i]) as string[], train.length, 0, { batchSize: c.batchSize, shuffle: false, seed: c.seed }));
    const pairs = SHARED.map((i) => [train.findIndex((t) => t.negative_1 === csv[i][2]), train.findIndex((t) => t.positive === csv[i][2])]).filter(([a, b]) => a >= 0 && b >= 0);
    expect(pairs.length).toBeGreaterThan(0);
    for (const [a, b] of pairs) for (const batch of rec.batches) expect(batch.includes(a) && batch.includes(b)).toBe(false);
    expect(rec.saved).toEqual({ prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: null, max_seq_length: c.maxLength });
    expect(rec.evaluator).toMatchObject({ score_functions: ['cosine'], query_prompt: 'query: ', corpus_prompt: 'passage: ', name: 'embedsmith', ndcg_at_k: [10], map_at_k: [100] });
    expect(rec.trainer).toEqual({ evaluator: false, callbacks: ['Recorder'] });
    const m = await lines(join(out, 'output', 'metrics.jsonl'));
    expect(m.map(({ pairsPerSec, ...x }) => (expect(pairsPerSec).toBeGreaterThan(0), x))).toEqual([
      { step: 1, epoch: 0, loss: 1.5, lr: 0, gradNorm: 0.5 },
      { step: 2, epoch: 0, loss: 0.75, lr: 5e-5, gradNorm: 0.5, eval: { 'ndcg@10': 0.5, 'mrr@10': 0.25 } },
    ]);
    expect(await readJson(join(out, 'output', 'config.json'))).toEqual({ ...c, trainedWith: 'sentence-transformers 5.1.0 (train.py)' });
  });

  it.skipIf(!PY)(`the batch splits over the processes, or the script says why not${NO_PY}`, async () => {
    const out = join(root, 'r4');
    await exportRecipe(run, out);
    expect((await fakeTrain(out, { WORLD_SIZE: '2' })).rec.args.per_device_train_batch_size).toBe(2);
    const bad = await fakeTrain(out, { WORLD_SIZE: '3' });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('batch size 4 does not split over 3 processes');
  });

  it.skipIf(!PY)(`--eval with --eval-every: best model, early stopping, evaluation after the last step${NO_PY}`, async () => {
    const dir = await fakeRun('run-eval', { eval: data, evalEvery: 3, patience: 2, shuffle: true, maxGradNorm: null, schedule: 'constant', symmetric: true, maxSteps: null, epochs: 2 });
    const out = join(root, 'r5');
    await exportRecipe(dir, out);
    const { err, rec } = await fakeTrain(out);
    expect(err).toBe('');
    expect(rec.args).toMatchObject({
      eval_strategy: 'steps', eval_steps: 3, save_strategy: 'steps', save_steps: 3, load_best_model_at_end: true, metric_for_best_model: 'embedsmith_cosine_ndcg@10',
      greater_is_better: true, max_grad_norm: 0, lr_scheduler_type: 'constant_with_warmup', batch_sampler: 'no_duplicates', max_steps: -1, num_train_epochs: 2,
    });
    expect(rec.loss).toMatchObject({ directions: ['query_to_doc', 'doc_to_query'], partition_mode: 'per_direction' });
    expect(rec.trainer).toEqual({ evaluator: true, callbacks: ['Recorder', 'EvaluateAtEnd', 'EarlyStoppingCallback'] });
    expect(rec.early_stopping_patience).toBe(2);
    // A loss argument this sentence-transformers lacks stops the script with the fix.
    const cached = await fakeRun('run-cached', { symmetric: true, gradCacheRows: 8 });
    await exportRecipe(cached, join(root, 'r6'));
    const old = await fakeTrain(join(root, 'r6'));
    expect(old.code).toBe(1);
    expect(old.err).toContain('CachedMultipleNegativesRankingLoss takes no directions, partition_mode');
  });

  it.each([
    ['a template with text after {text}', () => ({ template: { query: 'Q: {text} ?', document: '' } }), 'BAD_INPUT', /sentence-transformers prompts are prefixes; the query template 'Q: \{text\} \?'/],
    ['a learned temperature', () => ({ learnTemperature: true }), 'UNSUPPORTED', /--learn-temperature.*Fix: train with a fixed --temperature/],
    ['a metric the evaluator lacks', () => ({ eval: data, evalEvery: 2, metric: 'similarity_auc' }), 'UNSUPPORTED', /--metric similarity_auc.*it has accuracy@1/],
    ['CoSENT', () => ({ loss: 'cosent' as const }), 'UNSUPPORTED', /CoSENT.*covers InfoNCE runs/],
    ['LoRA adapters', () => ({ lora: 16 }), 'UNSUPPORTED', /--lora 16.*fine-tunes every weight.*Fix: export a run without --lora/],
  ])('refuses %s, naming it and the fix', async (name, o, code, message) => {
    const dir = await fakeRun(`run-${name.replace(/\W/g, '')}`, o());
    await expect(exportRecipe(dir, join(root, `out-${name.replace(/\W/g, '')}`))).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('refuses rows with fewer negatives than the rest, a model folder, and an old config without a template', async () => {
    await writeFile(join(root, 'ragged.csv'), 'anchor,positive,negative_1,negative_2\na,b,c,d\ne,f,g,\nh,i,j,k\n');
    await importDataset(join(root, 'ragged.csv'), join(root, 'ragged'));
    const dir = await fakeRun('run-ragged', { data: join(root, 'ragged') });
    await expect(exportRecipe(dir, join(root, 'out-ragged'))).rejects.toThrow(/1 of 3 training rows have fewer than 2 negatives \(the fewest 1, first at line 3\).*--negatives 1/);
    await expect(exportRecipe(model, join(root, 'out-model'))).rejects.toThrow(/is a model's config, not a training run's/);
    const { template: _, ...rest } = settings();
    const old = await fakeRun('run-old', {});
    await writeFile(join(old, 'config.json'), JSON.stringify(rest));
    await expect(exportRecipe(old, join(root, 'out-old'))).rejects.toMatchObject({ code: 'SCHEMA', message: expect.stringContaining('lacks template') });
  });

  it('settings added after a run take their defaults and are named', async () => {
    const { loss: _l, symmetric: _s, learnTemperature: _t, gradCacheRows: _g, ...older } = settings();
    const dir = join(root, 'run-older');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(older));
    expect((await exportRecipe(dir, join(root, 'out-older'))).filled).toEqual(['loss', 'symmetric', 'learnTemperature', 'gradCacheRows']);
  });
});

describe('recipe pieces', () => {
  it('--grad-cache is the cached loss with the chunk size; SupCon is refused', () => {
    expect(recipeLoss(settings({ gradCacheRows: 16 }), 'pairs')).toEqual({ name: 'CachedMultipleNegativesRankingLoss', kwargs: { scale: 20, gather_across_devices: true, mini_batch_size: 16 } });
    expect(() => recipeLoss(settings(), 'labeled')).toThrow(/SupCon/);
    const r = buildRecipe(settings({ warmup: 5, checkpointEvery: 7, maxSteps: 40 }), { madeFrom: 'x', format: 'pairs', negatives: 0, evalDuringTraining: null });
    expect(r).toMatchObject({ columns: ['anchor', 'positive'], warmup: 5, eval: null, args: { save_strategy: 'steps', save_steps: 7, max_steps: 40 } });
  });

  it('a base model in a Hugging Face cache names its hub id and commit', () => {
    const c = 'a'.repeat(40);
    expect(hubOrigin(`/h/.cache/huggingface/hub/models--BAAI--bge-small-en-v1.5/snapshots/${c}`)).toEqual({ hub_id: 'BAAI/bge-small-en-v1.5', revision: c });
    expect(hubOrigin('/work/models/minilm')).toBeNull();
  });

  it.skipIf(!PY)(`pyLiteral reads back in Python as the same value${NO_PY}`, () => {
    const v = { s: `q'''"""\\ \n\té ${'\u2028'}😀 {text} \${x}`, n: [2e-5, 1e-8, -3, 0.1, 20], b: [true, false, null], o: { 'k"ey': [] }, e: {}, inf: Infinity };
    const r = python(['-c', 'import ast,json,sys\nv=ast.literal_eval(sys.stdin.read())\nv["inf"]=repr(v["inf"])\nprint(json.dumps(v))'], {}, pyLiteral(v));
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual({ ...v, inf: 'inf' });
  });
});
