// Training examples from a stored dataset: (query, positive, mined or given negatives), with
// the instruction template of each role applied (queries get the query template, positives
// and negatives the document template), tokenised once per distinct text.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { type DatasetMeta, readDatasetMeta, readRows } from '../data/index.js';
import type { SplitFile } from '../data/split.js';
import type { Tokenizer } from '../tokenize/tokenizer.js';

export interface Example {
  /** 1-based source line, for messages. */
  line: number;
  query: string;
  positive: string;
  negatives: string[];
}

export interface ExampleSet {
  meta: DatasetMeta;
  examples: Example[];
  /** Rows left out because split.json puts them in the eval side. */
  heldOut: number;
}

/** The rows of `dir` as examples: pairs and triplets (other formats need their own losses). */
export async function loadExamples(dir: string, opts: { maxNegatives?: number; useSplit?: boolean } = {}): Promise<ExampleSet> {
  const meta = await readDatasetMeta(dir);
  if (meta.format !== 'pairs' && meta.format !== 'triplets') {
    throw new EngineError(
      'UNSUPPORTED',
      `${dir} is a '${meta.format}' dataset; contrastive training here takes pairs or triplets (anchor, positive[, negatives]). Fix: import pairs, or mine negatives into a pairs dataset first.`,
      { dir, format: meta.format },
    );
  }
  const evalRows = opts.useSplit === false ? new Set<number>() : await evalSide(dir);
  const examples: Example[] = [];
  let index = 0;
  for await (const row of readRows(dir)) {
    const i = index++;
    if (evalRows.has(i)) continue;
    const negatives = (row.negatives ?? []).slice(0, opts.maxNegatives ?? Infinity);
    examples.push({ line: row.line, query: row.anchor ?? '', positive: row.positive ?? '', negatives });
  }
  return { meta, examples, heldOut: evalRows.size };
}

async function evalSide(dir: string): Promise<Set<number>> {
  const path = join(dir, 'split.json');
  if (!existsSync(path)) return new Set();
  const split = JSON.parse(await readFile(path, 'utf8')) as SplitFile;
  return new Set(split.eval);
}

/** Token ids per distinct (template-applied) text, computed once. */
export class TokenCache {
  readonly #ids = new Map<string, number[]>();
  truncated = 0;
  constructor(
    readonly tokenizer: Tokenizer,
    readonly maxLength: number,
  ) {}

  ids(text: string): number[] {
    let ids = this.#ids.get(text);
    if (!ids) {
      const r = this.tokenizer.encode(text, this.maxLength);
      if (r.truncated) this.truncated++;
      ids = r.ids;
      this.#ids.set(text, ids);
    }
    return ids;
  }
}
