// Guided in-batch negatives (GISTEmbed, Solatorio 2024, "GISTEmbed: Guided In-sample Selection
// of Training Negatives"; sentence-transformers' GISTEmbedLoss): a frozen guide model scores
// every query against the step's candidates, and a candidate the guide scores above the
// query's own positive (less a margin) is most likely a false negative — another row's
// positive that also answers this query — so it leaves the softmax. The guide embeds every
// training text once per run (texts do not change between epochs); each step then costs B × C
// dot products in JS. Masking is by the loss's candidate bias: NEGATIVE_FILL adds exp(-1e4) = 0
// probability and no gradient, exactly as if the candidate were not there.
//
// Deliberate difference from GISTEmbedLoss: it also adds query–query and positive–positive
// blocks as candidates; here the candidates stay the run's own (every positive and mined
// negative of the batch), so a guided run differs from an unguided one only by the mask.
import { EngineError } from '../../../shared/errors.js';
import { NEGATIVE_FILL } from '../nn/graphs.js';
import type { Example } from './examples.js';
import type { Templates } from './batch.js';

export type MarginStrategy = 'absolute' | 'relative';

export interface GuideRule {
  /** absolute: masked when s > s⁺ − margin; relative: when s > s⁺ · (1 − margin) (GISTEmbedLoss' margin_strategy). */
  strategy: MarginStrategy;
  margin: number;
}

/**
 * The [B, C] bias for one step from guide scores (row-major, C = B positives then B·N
 * negatives): NEGATIVE_FILL where the guide ranks a candidate above the query's positive by
 * the rule, 0 elsewhere. Column i of row i (the query's own positive) is never masked.
 */
export function guideBias(scores: Float32Array, b: number, c: number, rule: GuideRule): { bias: Float32Array; masked: number } {
  const bias = new Float32Array(b * c);
  let masked = 0;
  for (let i = 0; i < b; i++) {
    const pos = scores[i * c + i]!;
    const limit = rule.strategy === 'absolute' ? pos - rule.margin : pos * (1 - rule.margin);
    for (let j = 0; j < c; j++) {
      if (j === i) continue;
      if (scores[i * c + j]! > limit) {
        bias[i * c + j] = NEGATIVE_FILL;
        masked++;
      }
    }
  }
  return { bias, masked };
}

/** Cosine scores of the guide: one unit vector per text, looked up by the exact text a step feeds. */
export class Guide {
  readonly #vectors = new Map<string, Float32Array>();
  readonly #dim: number;

  private constructor(dim: number) {
    this.#dim = dim;
  }

  /** Embeds every query (query template) and document (document template) of the examples once. */
  static async build(examples: readonly Example[], templates: Templates, embed: (texts: string[], role: 'query' | 'document') => Promise<Float32Array>, dim: number): Promise<Guide> {
    const g = new Guide(dim);
    const queries = [...new Set(examples.map((e) => templates.query(e.query)))];
    const docs = [...new Set(examples.flatMap((e) => [e.positive, ...e.negatives]).filter((t) => t !== '').map((t) => templates.document(t)))];
    for (const [texts, role] of [[queries, 'query'], [docs, 'document']] as const) {
      const e = await embed(texts, role);
      texts.forEach((t, i) => g.#vectors.set(`${role}\u0000${t}`, unit(e.subarray(i * dim, (i + 1) * dim))));
    }
    return g;
  }

  /**
   * The step's [B, C] guide bias in stepBatch's column order: every positive, then each
   * query's N negative slots (a filler slot, '' , gets no guide mask: negative_bias masks it).
   */
  stepBias(examples: readonly Example[], picks: readonly number[], n: number, templates: Templates, rule: GuideRule): { bias: Float32Array; masked: number } {
    const b = picks.length;
    const c = b * (1 + n);
    const qs = picks.map((i) => this.#get('query', templates.query(examples[i]!.query)));
    const cols: (Float32Array | null)[] = picks.map((i) => this.#get('document', templates.document(examples[i]!.positive)));
    for (const i of picks) for (let j = 0; j < n; j++) {
      const t = examples[i]!.negatives[j];
      cols.push(t === undefined || t === '' ? null : this.#get('document', templates.document(t)));
    }
    const scores = new Float32Array(b * c);
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < c; j++) {
        const col = cols[j];
        // A filler never outranks anything: -Infinity keeps it out of the guide's mask.
        scores[i * c + j] = col ? dot(qs[i]!, col, this.#dim) : -Infinity;
      }
    }
    return guideBias(scores, b, c, rule);
  }

  #get(role: string, text: string): Float32Array {
    const v = this.#vectors.get(`${role}\u0000${text}`);
    if (!v) throw new EngineError('INTERNAL', `the guide has no embedding for a ${role} text the step uses: ${JSON.stringify(text.slice(0, 80))}`);
    return v;
  }
}

function unit(v: Float32Array): Float32Array {
  let ss = 0;
  for (let k = 0; k < v.length; k++) ss += v[k]! * v[k]!;
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  return Float32Array.from(v, (x) => x * inv);
}

function dot(a: Float32Array, b: Float32Array, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
  return s;
}
