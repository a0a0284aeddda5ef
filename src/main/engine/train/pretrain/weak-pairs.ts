// Weak (query, positive) pairs from unlabelled documents, the first step of domain
// pre-training. The recipe is E5's (Wang et al. 2022, "Text Embeddings by Weakly-Supervised
// Contrastive Pre-training", §3: (title, passage), (section title, section passage), …) and
// OpenAI's cpt (Neelakantan et al. 2022, "Text and Code Embeddings by Contrastive
// Pre-Training": neighbouring pieces of text are positives). Structure is the only label:
//
//   title-body          document title → the start of its body
//   heading-section     a markdown heading → the text under it (subsections included)
//   adjacent            paragraph i → paragraph i+1 of the same section
//   adjacent-sentences  sentence j → sentence j+1 of the same paragraph
//
// Pure: documents in, pairs and counts out (documents.ts reads files). Nothing is dropped
// without being counted (DESIGN §7): too short, duplicate and capped pairs each have a count.

import { PRETRAIN_RANGES, rangeProblem } from '../../../../shared/setting-ranges.js';
import { EngineError } from '../../../../shared/errors.js';
import { normalizeText } from '../../data/validate.js';
import { mixSeed, mulberry32 } from '../../../../shared/random.js';

export const PAIR_KINDS = ['title-body', 'heading-section', 'adjacent', 'adjacent-sentences'] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

export interface WeakDocument {
  /** Where it came from ("notes/a.md", "docs.jsonl:12"), for messages. */
  source: string;
  /** A title given outside the text (JSONL `title`); otherwise a first-line `# heading` is the title. */
  title?: string;
  text: string;
}

export interface WeakPair {
  anchor: string;
  positive: string;
  kind: PairKind;
  /** Index of the document it came from. */
  doc: number;
}

export interface WeakPairOptions {
  /** Which kinds to build (default title-body, heading-section, adjacent). */
  kinds: readonly PairKind[];
  /** Texts shorter than this (characters, after trimming) make no pair: "Usage" alone says too little. */
  minChars: number;
  /** Positives (and long anchors) are cut to this many characters at a word boundary: the model reads ~128 tokens anyway. */
  maxChars: number;
  /** Most pairs one document gives; beyond it a seeded sample, so one long manual cannot dominate the batches. */
  maxPairsPerDoc: number;
  seed: number;
}

export const WEAK_PAIR_DEFAULTS: WeakPairOptions = { kinds: ['title-body', 'heading-section', 'adjacent'], minChars: 10, maxChars: 1000, maxPairsPerDoc: 32, seed: 42 };

export type KindCounts = Record<PairKind, number>;

export interface WeakPairCounts {
  documents: number;
  /** Pairs found per kind, before any filter. */
  candidates: KindCounts;
  /** Dropped: a side shorter than minChars. */
  tooShort: number;
  /** Dropped: anchor and positive the same text, or a pair seen before (case and spacing folded). */
  duplicates: number;
  /** Dropped by the per-document cap. */
  capped: number;
  /** Pairs kept per kind. */
  pairs: KindCounts;
}

export interface Section {
  heading?: string;
  /** 1–6 for `#`…`######`; 0 for the text before the first heading. */
  level: number;
  paragraphs: string[];
}

export interface ParsedDocument {
  title?: string;
  sections: Section[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;
// A sentence ends at . ! or ? followed by space and a capital, digit or opening quote/bracket:
// good enough for prose, and "e.g. this" or "3.5 mm" stay whole.
const SENTENCE_END = /(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[\p{Lu}\p{N}])/u;

/** Headings and paragraphs of a markdown (or plain) text; fenced code is skipped, as code is not prose. */
export function parseDocument(doc: Pick<WeakDocument, 'title' | 'text'>): ParsedDocument {
  const lines = doc.text.replace(/\r\n?/g, '\n').split('\n');
  const sections: Section[] = [{ level: 0, paragraphs: [] }];
  let title = doc.title?.trim() || undefined;
  let para: string[] = [];
  let inFence = false;
  let first = true;
  const flush = () => {
    if (para.length) sections[sections.length - 1].paragraphs.push(para.join(' '));
    para = [];
  };
  for (const raw of lines) {
    if (FENCE.test(raw)) {
      flush();
      inFence = !inFence;
      first = false;
      continue;
    }
    if (inFence) continue;
    const line = raw.trim();
    if (line === '') {
      flush();
      continue;
    }
    const h = HEADING.exec(raw);
    if (h) {
      flush();
      // A first-line `# Title` is the document's title, not a section heading (unless JSONL gave one).
      if (first && h[1].length === 1 && title === undefined) title = h[2].trim();
      else sections.push({ heading: h[2].trim(), level: h[1].length, paragraphs: [] });
    } else para.push(line);
    first = false;
  }
  flush();
  return { title, sections: sections.filter((s) => s.heading !== undefined || s.paragraphs.length > 0) };
}

export function splitSentences(paragraph: string): string[] {
  return paragraph.split(SENTENCE_END).map((s) => s.trim()).filter((s) => s !== '');
}

/** Cut to `max` characters at the last space past half way (a hard cut when there is none). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max);
  return (cut > max / 2 ? text.slice(0, cut) : text.slice(0, max)).trim();
}

/** Every candidate pair of one document, in document order, before filters. */
export function documentPairs(doc: WeakDocument, index: number, o: Pick<WeakPairOptions, 'kinds' | 'maxChars'>): WeakPair[] {
  const { title, sections } = parseDocument(doc);
  const want = new Set(o.kinds);
  const out: WeakPair[] = [];
  const add = (kind: PairKind, anchor: string, positive: string) => out.push({ anchor: clip(anchor, o.maxChars), positive: clip(positive, o.maxChars), kind, doc: index });
  if (want.has('title-body') && title !== undefined) {
    const body = sections.flatMap((s) => s.paragraphs).join('\n');
    if (body !== '') add('title-body', title, body);
  }
  sections.forEach((s, i) => {
    if (want.has('heading-section') && s.heading !== undefined) {
      // The section runs until the next heading of the same or a higher level.
      const under = [...s.paragraphs];
      for (let j = i + 1; j < sections.length && sections[j].level > s.level; j++) under.push(...sections[j].paragraphs);
      if (under.length) add('heading-section', s.heading, under.join('\n'));
    }
    // Neighbours only within a section: across a heading the topic changes on purpose.
    if (want.has('adjacent')) for (let p = 0; p + 1 < s.paragraphs.length; p++) add('adjacent', s.paragraphs[p], s.paragraphs[p + 1]);
    if (want.has('adjacent-sentences')) {
      for (const para of s.paragraphs) {
        const ss = splitSentences(para);
        for (let k = 0; k + 1 < ss.length; k++) add('adjacent-sentences', ss[k], ss[k + 1]);
      }
    }
  });
  return out;
}

export function checkWeakPairOptions(o: WeakPairOptions): WeakPairOptions {
  const bad = (setting: string, message: string) => new EngineError('BAD_INPUT', `--${setting}: ${message}`, { setting });
  if (o.kinds.length === 0) throw bad('pairs', `name at least one kind: ${PAIR_KINDS.join(', ')}`);
  for (const k of o.kinds) if (!PAIR_KINDS.includes(k)) throw bad('pairs', `'${k}' is not a pair kind; kinds are ${PAIR_KINDS.join(', ')}`);
  if (!Number.isInteger(o.minChars) || o.minChars < 1) throw bad('min-chars', `${o.minChars} must be a positive integer, e.g. ${WEAK_PAIR_DEFAULTS.minChars}`);
  if (!Number.isInteger(o.maxChars) || o.maxChars < o.minChars) throw bad('max-chars', `${o.maxChars} must be an integer >= --min-chars (${o.minChars}), e.g. ${WEAK_PAIR_DEFAULTS.maxChars}`);
  if (!Number.isInteger(o.maxPairsPerDoc) || o.maxPairsPerDoc < 1) throw bad('max-pairs-per-doc', `${o.maxPairsPerDoc} must be a positive integer, e.g. ${WEAK_PAIR_DEFAULTS.maxPairsPerDoc}`);
  if (!Number.isInteger(o.seed)) throw bad('seed', `${o.seed} must be an integer`);
  for (const key of ['minChars', 'maxChars', 'maxPairsPerDoc'] as const) {
    const problem = rangeProblem(o[key], PRETRAIN_RANGES[key], { cores: 1 });
    if (problem) throw bad(PRETRAIN_RANGES[key].flag, `${problem.replace(/^--\S+ /, '')} Fix: give a value in that range.`);
  }
  return o;
}

const zero = (): KindCounts => Object.fromEntries(PAIR_KINDS.map((k) => [k, 0])) as KindCounts;

/** Pairs of all documents: filtered, deduplicated across the corpus, capped per document by a seeded sample. */
export function weakPairs(docs: readonly WeakDocument[], opts: Partial<WeakPairOptions> = {}): { pairs: WeakPair[]; counts: WeakPairCounts } {
  const o = checkWeakPairOptions({ ...WEAK_PAIR_DEFAULTS, ...opts });
  const counts: WeakPairCounts = { documents: docs.length, candidates: zero(), tooShort: 0, duplicates: 0, capped: 0, pairs: zero() };
  const seen = new Set<string>();
  const pairs: WeakPair[] = [];
  docs.forEach((doc, d) => {
    const fresh: WeakPair[] = [];
    const mine = new Set<string>();
    for (const p of documentPairs(doc, d, o)) {
      counts.candidates[p.kind]++;
      if (p.anchor.length < o.minChars || p.positive.length < o.minChars) {
        counts.tooShort++;
        continue;
      }
      const a = normalizeText(p.anchor);
      const b = normalizeText(p.positive);
      const key = `${a}\u0001${b}`;
      // Anchor = positive teaches nothing; a repeated pair (boilerplate) would be overweighted.
      if (a === b || seen.has(key) || mine.has(key)) {
        counts.duplicates++;
        continue;
      }
      mine.add(key);
      fresh.push(p);
    }
    const kept = capDocument(fresh, o.maxPairsPerDoc, mixSeed(o.seed, d));
    counts.capped += fresh.length - kept.length;
    for (const p of kept) {
      seen.add(`${normalizeText(p.anchor)}\u0001${normalizeText(p.positive)}`);
      counts.pairs[p.kind]++;
      pairs.push(p);
    }
  });
  return { pairs, counts };
}

/**
 * At most `cap` pairs, in document order. The title-body pair always stays (E5's strongest
 * pair type, one per document); the rest is a uniform seeded sample. The seed mixes the
 * document index, so one document's sample does not depend on the documents before it.
 */
function capDocument(pairs: WeakPair[], cap: number, seed: number): WeakPair[] {
  if (pairs.length <= cap) return pairs;
  const fixed = pairs.map((p, i) => (p.kind === 'title-body' ? i : -1)).filter((i) => i >= 0).slice(0, cap);
  const rest = pairs.map((_, i) => i).filter((i) => pairs[i].kind !== 'title-body');
  const rand = mulberry32(seed);
  const take = cap - fixed.length;
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rand() * (rest.length - i)); // partial Fisher–Yates
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [...fixed, ...rest.slice(0, take)].sort((a, b) => a - b).map((i) => pairs[i]);
}
