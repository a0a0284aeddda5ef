// What the training tests set up again and again, written once: a temp folder, a tiny seeded
// random BERT, small datasets imported from CSV lines, trainRun's settings with the test
// defaults (one thread, CPU, no template), and a run's metrics.jsonl read back.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importDataset } from '../../src/main/engine/data/import.js';
import { type RandomBertOptions, writeRandomBert } from '../../src/main/engine/model/random-model.js';
import type { StepRecord } from '../../src/main/engine/train/run.js';
import { tempDir } from './temp-dir.js';
import { TRAIN_DEFAULTS, type TrainSettings } from '../../src/main/engine/train/settings.js';

/** bert-base-uncased's WordPiece tokenizer files (the tiny models' vocabulary). */
export const BERT_TOKENIZER = join(import.meta.dirname, '../fixtures/models/bert-wordpiece-uncased');

/** Sixteen distinct one-token words for query/document texts. */
export const WORDS = 'apple river stone cloud music garden window paper silver engine forest candle ocean pencil winter button'.split(' ');

/** A pairs CSV: 'what is <word>' → '<word> is a thing number <i>' for each of WORDS. */
export const WORD_PAIRS = ['anchor,positive', ...WORDS.map((w, i) => `what is ${w},${w} is a thing number ${i}`)];

export { tempDir } from './temp-dir.js';

/**
 * A seeded random BERT folder at `dir`: width 32, 2 layers, 4 heads, FFN 64, seed 3 unless `o`
 * says otherwise; returns `dir`.
 */
export async function writeTinyBert(dir: string, o: Partial<RandomBertOptions> = {}): Promise<string> {
  await writeRandomBert(dir, { tokenizerDir: BERT_TOKENIZER, hidden: 32, layers: 2, heads: 4, intermediate: 64, seed: 3, ...o });
  return dir;
}

/** Writes `lines` (header first) to <root>/<name>.csv and imports it as the dataset <root>/<name>; returns its folder. */
export async function importCsvLines(root: string, name: string, lines: readonly string[]): Promise<string> {
  const csv = join(root, `${name}.csv`);
  await writeFile(csv, lines.join('\n') + '\n');
  const dir = join(root, name);
  await importDataset(csv, dir);
  return dir;
}

/** The usual training test folder: a temp root with a tiny BERT at root/model and WORD_PAIRS imported as root/pairs. */
export async function wordPairsWorkspace(prefix: string): Promise<{ root: string; model: string; pairs: string }> {
  const root = await tempDir(prefix);
  return { root, model: await writeTinyBert(join(root, 'model')), pairs: await importCsvLines(root, 'pairs', WORD_PAIRS) };
}

/** trainRun settings: the defaults, one thread, the CPU, no template, then `o`. */
export function trainSettings(o: Partial<TrainSettings> & Pick<TrainSettings, 'model' | 'data'>): TrainSettings {
  return { ...TRAIN_DEFAULTS, threads: 1, template: { query: '', document: '' }, device: 'cpu', ...o };
}

/** A run folder's metrics.jsonl, one record per line. */
export async function readMetrics(run: string): Promise<StepRecord[]> {
  return (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepRecord);
}
