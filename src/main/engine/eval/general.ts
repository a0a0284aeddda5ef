// The forgetting guard (issue 18): a small general-domain retrieval set shipped with the app
// (resources/general/wordnet-examples.csv: WordNet usage examples → their sense's
// definition), evaluated with the base and the fine-tuned model after a run, so a gain in the
// user's domain that cost general language shows as a loss here. `merge` (model/merge.ts)
// is the remedy: a point between the base and the tuned weights.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importDataset } from '../data/index.js';
import type { EmbedRole } from '../model/embed.js';
import { openModelTools } from '../mining/embedder.js';
import type { SearchFn } from '../search/top-k.js';
import type { DevicePref } from '../runtime/index.js';
import { writeFileAtomic } from '../workspace/atomic.js';
import { type EvalResult, evaluateDataset } from './evaluate.js';

export const GENERAL_SET_NAME = 'WordNet usage examples → definitions (400 pairs)';

export function generalSetFile(): string {
  return fileURLToPath(new URL('../../../../resources/general/wordnet-examples.csv', import.meta.url));
}

/** The general set's retrieval metrics with one model's embed and search (the set is imported into a temporary folder). */
export async function evaluateGeneral(tools: { embed: (texts: string[], role: EmbedRole) => Promise<Float32Array>; search: SearchFn }, signal?: AbortSignal): Promise<EvalResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'embedsmith-general-'));
  try {
    const data = join(tmp, 'general');
    await importDataset(generalSetFile(), data);
    return await evaluateDataset({ dataDir: data, split: 'all', embed: tools.embed, search: tools.search, signal });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface GeneralReport {
  set: string;
  queries: number;
  before: Record<string, number>;
  after: Record<string, number>;
}

/** Metrics the guard reports (a subset keeps the file and the log readable). */
const KEPT = ['ndcg@10', 'mrr@10', 'recall@10'];

/**
 * Evaluates the base and the trained model on the general set and writes RUN_DIR/general-eval.json.
 * Both use the run's max length and templates are not applied: the set is plain English.
 */
export async function guardForgetting(o: { base: string; tuned: string; runDir: string; device?: DevicePref; maxLength?: number; signal?: AbortSignal }): Promise<GeneralReport> {
  const metricsOf = async (dir: string) => {
    const tools = await openModelTools(dir, { device: o.device, maxLength: o.maxLength, signal: o.signal });
    try {
      const r = await evaluateGeneral(tools, o.signal);
      return { metrics: Object.fromEntries(KEPT.map((k) => [k, r.metrics[k]!])), queries: r.counts.evaluated };
    } finally {
      await tools.dispose();
    }
  };
  const before = await metricsOf(o.base);
  const after = await metricsOf(o.tuned);
  const report: GeneralReport = { set: GENERAL_SET_NAME, queries: after.queries, before: before.metrics, after: after.metrics };
  await writeFileAtomic(join(o.runDir, 'general-eval.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** One line for a log: nDCG@10 before → after on the general set, and what to do about a drop. */
export function describeGeneral(r: GeneralReport): string {
  const b = r.before['ndcg@10']!;
  const a = r.after['ndcg@10']!;
  const d = a - b;
  const hint = d < -0.02 ? `; the model forgot some general language: \`embedsmith merge --base BASE --tuned MODEL --alpha 0.7 --out DIR\` trades some of the domain gain back` : '';
  return `general set (${r.set}): nDCG@10 ${b.toFixed(4)} → ${a.toFixed(4)} (${d >= 0 ? '+' : ''}${d.toFixed(4)})${hint}`;
}
