// Training examples from a stored dataset: (query, positive, mined or given negatives), with
// the instruction template of each role applied (queries get the query template, positives
// and negatives the document template), tokenised once per distinct text.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROW_FORMATS } from '../../../shared/dataset-formats.js';
import { EngineError } from '../../../shared/errors.js';
import { type DatasetMeta, type DatasetRow, readDatasetMeta } from '../data/index.js';
import { readRowsWithEdits } from '../data/store.js';
import type { Tokenizer } from '../tokenize/tokenizer.js';

export interface Example {
  /** 1-based source line, for messages. */
  line: number;
  /** The anchor (pairs, triplets, scored) or the text (labelled). */
  query: string;
  /** '' for labelled data. */
  positive: string;
  negatives: string[];
  label?: string;
  score?: number;
}

export interface ExampleSet {
  meta: DatasetMeta;
  examples: Example[];
  /** Rows left out because split.json puts them in the eval side. */
  heldOut: number;
}

/** The rows of `dir` as examples: pairs/triplets (InfoNCE), labelled texts (SupCon), scored pairs (CoSENT). */
export async function loadExamples(dir: string, opts: { maxNegatives?: number; useSplit?: boolean } = {}): Promise<ExampleSet> {
  const meta = await readDatasetMeta(dir);
  if (!(ROW_FORMATS as readonly string[]).includes(meta.format)) {
    throw new EngineError(
      'UNSUPPORTED',
      `${dir} is a '${meta.format}' dataset; training takes pairs, triplets, labeled or scored rows. Fix: derive pairs from it, or import them.`,
      { dir, format: meta.format },
    );
  }
  const useSplit = opts.useSplit !== false && existsSync(join(dir, 'split.json'));
  const examples: Example[] = [];
  let heldOut = 0;
  // Edits applied; split.json's indices are the stable row indices readRowsWithEdits knows.
  if (!useSplit) {
    for await (const { row } of readRowsWithEdits(dir, { onWarning: () => {} })) examples.push(toExample(row, opts.maxNegatives));
  } else {
    for await (const { row } of readRowsWithEdits(dir, { split: 'train', onWarning: () => {} })) examples.push(toExample(row, opts.maxNegatives));
    for await (const _ of readRowsWithEdits(dir, { split: 'eval', onWarning: () => {} })) heldOut++;
  }
  return { meta, examples, heldOut };
}

function toExample(row: DatasetRow, maxNegatives: number | undefined): Example {
  const negatives = (row.negatives ?? []).slice(0, maxNegatives ?? Infinity);
  if (row.text !== undefined) return { line: row.line, query: row.text, positive: '', negatives: [], label: row.label };
  return { line: row.line, query: row.anchor ?? '', positive: row.positive ?? '', negatives, label: row.label, score: row.score };
}

/** Token ids per distinct (template-applied) text, computed once. */
export class TokenCache {
  readonly #ids = new Map<string, number[]>();
  truncated = 0;
  constructor(
    readonly tokenizer: Tokenizer,
    readonly maxLength: number,
  ) {}

  /** Distinct texts tokenised so far. */
  get size(): number {
    return this.#ids.size;
  }

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
