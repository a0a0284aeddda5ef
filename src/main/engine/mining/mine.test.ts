// The mining rules, one test each, on 2-D unit vectors where the ordering is known by hand:
// a text at angle θ scores cos(θ - φ) against an anchor at φ, so "d7" at 7° is the 7th
// nearest of d1…dn to an anchor at 0°. bruteForceTopK is the searcher throughout.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import { type MineInput, type MineOptions, mineNegatives, resolveMineOptions } from './mine.js';
import { type SearchFn, bruteForceTopK } from '../search/top-k.js';

const rad = (deg: number) => (deg * Math.PI) / 180;
const search: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);

interface Doc {
  text: string;
  deg: number;
  labels?: string[];
}
interface Anchor {
  text: string;
  deg: number;
  positives?: string[];
  label?: string;
  existing?: string[];
}

/** d1…dn at 1°…n°. */
const grid = (n: number, from = 1): Doc[] => Array.from({ length: n }, (_, i) => ({ text: `d${from + i}`, deg: from + i }));

function build(anchors: Anchor[], corpus: Doc[], extra: Partial<MineInput> = {}): MineInput {
  const vec = (deg: number) => [Math.cos(rad(deg)), Math.sin(rad(deg))];
  const at = new Map(corpus.map((d) => [d.text, d.deg]));
  const anchorEmbeddings = Float32Array.from(anchors.flatMap((a) => vec(a.deg)));
  return {
    anchors: anchors.map((a) => ({
      text: a.text,
      positives: a.positives ?? [],
      positiveScores: (a.positives ?? []).map((p) => Math.cos(rad(at.get(p)! - a.deg))),
      label: a.label,
      existing: a.existing,
    })),
    corpus: corpus.map((d) => d.text),
    corpusLabels: corpus.some((d) => d.labels) ? corpus.map((d) => d.labels) : undefined,
    anchorEmbeddings,
    corpusEmbeddings: Float32Array.from(corpus.flatMap((d) => vec(d.deg))),
    dim: 2,
    search,
    ...extra,
  };
}

const mine = async (anchors: Anchor[], corpus: Doc[], opts: MineOptions = {}, extra: Partial<MineInput> = {}) => mineNegatives(build(anchors, corpus, extra), opts);
const texts = (r: Awaited<ReturnType<typeof mine>>, a = 0) => r.negatives[a].map((n) => n.text);
const ranks = (r: Awaited<ReturnType<typeof mine>>, a = 0) => r.negatives[a].map((n) => n.rank);

describe('mineNegatives rules', () => {
  it('by default takes ranks 11, 12, 13; the own positive is skipped without taking a rank', async () => {
    const r = await mine([{ text: 'q', deg: 0, positives: ['p'] }], [{ text: 'p', deg: 0.5 }, ...grid(120)]);
    expect(texts(r)).toEqual(['d11', 'd12', 'd13']);
    expect(ranks(r)).toEqual([11, 12, 13]);
    r.negatives[0].forEach((n, i) => expect(n.score).toBeCloseTo(Math.cos(rad(11 + i)), 6));
    expect(r.removed).toMatchObject({ ownPositive: 1, rankRange: 10, duplicate: 0, margin: 0 });
  });

  it('never mines an own positive, wherever it ranks', async () => {
    const r = await mine([{ text: 'q', deg: 0, positives: ['p'] }], [{ text: 'p', deg: 2.5 }, ...grid(20)], { rankMin: 0, rankMax: 5, negatives: 5 });
    expect(texts(r)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    expect(ranks(r)).toEqual([1, 2, 3, 4, 5]);
    expect(r.removed.ownPositive).toBe(1);
  });

  it('searches past rankMax far enough to see rankMax candidates behind several positives', async () => {
    const anchors = [
      { text: 'q', deg: 0, positives: ['p1', 'p2', 'p3'] },
      { text: 'r', deg: 100.2 },
    ];
    const corpus = [{ text: 'p1', deg: 0.1 }, { text: 'p2', deg: 0.2 }, { text: 'p3', deg: 0.3 }, ...grid(120)];
    const opts = { rankMin: 0, rankMax: 5, negatives: 5 };
    const r = await mine(anchors, corpus, opts);
    expect(texts(r)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    expect(texts(r, 1)).toEqual(['d100', 'd101', 'd99', 'd102', 'd98']);
    // One anchor per search call: each call's k differs, the result must not.
    const one = await mine(anchors, corpus, opts, { chunk: 1 });
    expect(one.negatives).toEqual(r.negatives);
    expect(one.removed).toEqual(r.removed);
  });

  it('drops texts equal after normalisation to the anchor or a positive', async () => {
    const corpus = [{ text: 'Tracking page', deg: 30 }, { text: 'where is my  PARCEL?', deg: 1 }, { text: ' tracking\tpage ', deg: 2 }, ...grid(18, 3)];
    const r = await mine([{ text: 'Where is my parcel?', deg: 0, positives: ['Tracking page'] }], corpus, { rankMin: 0, rankMax: 10 });
    expect(texts(r)).toEqual(['d3', 'd4', 'd5']);
    expect(ranks(r)).toEqual([3, 4, 5]); // the near-copies still hold ranks 1 and 2
    expect(r.removed.duplicate).toBe(2);
  });

  it('with a text key, drops texts the model sees as its positive (token-identical after truncation)', async () => {
    // As a model with max length 3 words sees them: the first three words.
    const textKey = (t: string) => t.split(' ').slice(0, 3).join(' ');
    const corpus = [{ text: 'reset your password from settings', deg: 40 }, { text: 'reset your password by email', deg: 1 }, { text: 'reset my password', deg: 2 }, ...grid(18, 3)];
    const anchors = [{ text: 'how to reset', deg: 0, positives: ['reset your password from settings'] }];
    const plain = await mine(anchors, corpus, { rankMin: 0, rankMax: 10 });
    // Without the key the near-copy is mined first: a guaranteed false negative at this length.
    expect(texts(plain)[0]).toBe('reset your password by email');
    const keyed = await mine(anchors, corpus, { rankMin: 0, rankMax: 10 }, { textKey });
    expect(texts(keyed)).toEqual(['reset my password', 'd3', 'd4']);
    expect(keyed.removed.duplicate).toBe(1);
  });

  it('never mines again a negative the anchor already has (up to normalisation)', async () => {
    const r = await mine([{ text: 'q', deg: 0, existing: ['D1 '] }], grid(20), { rankMin: 0, rankMax: 10 });
    expect(texts(r)).toEqual(['d2', 'd3', 'd4']);
    expect(r.removed.existing).toBe(1);
  });

  it('keeps ranks rankMin+1..rankMax only, never reaching past rankMax to fill up', async () => {
    const r = await mine([{ text: 'q', deg: 0 }], grid(30), { rankMin: 2, rankMax: 6, negatives: 4 });
    expect(ranks(r)).toEqual([3, 4, 5, 6]);
    expect(r.removed.rankRange).toBe(2);
    // maxScore removes rank 3, and rank 7 is outside the window: only 3 are found.
    const short = await mine([{ text: 'q', deg: 0 }], grid(30), { rankMin: 2, rankMax: 6, negatives: 4, maxScore: Math.cos(rad(3.5)) });
    expect(ranks(short)).toEqual([4, 5, 6]);
  });

  it('drops candidates above maxScore', async () => {
    const r = await mine([{ text: 'q', deg: 0 }], grid(30), { rankMin: 0, rankMax: 20, maxScore: Math.cos(rad(5.5)) });
    expect(texts(r)).toEqual(['d6', 'd7', 'd8']);
    expect(r.removed.maxScore).toBe(5);
  });

  it('absolute margin: score <= positive - margin; relative: score <= positive × (1 - margin)', async () => {
    // Positive at 20.5°: cos 0.93667. Absolute 0.2 → bound 0.73667, first below it is d43
    // (cos 43° 0.7314; cos 42° 0.7431 is above). Relative 0.2 → 0.74934, so d42 already passes.
    const anchors = [{ text: 'q', deg: 0, positives: ['p'] }];
    const corpus = [{ text: 'p', deg: 20.5 }, ...grid(90)];
    const abs = await mine(anchors, corpus, { rankMin: 0, rankMax: 90, negatives: 2, margin: 0.2 });
    expect(texts(abs)).toEqual(['d43', 'd44']);
    expect(abs.removed.margin).toBe(42);
    const rel = await mine(anchors, corpus, { rankMin: 0, rankMax: 90, negatives: 2, relativeMargin: 0.2 });
    expect(texts(rel)).toEqual(['d42', 'd43']);
    expect(rel.removed.margin).toBe(41);
  });

  it('with several positives the margin is measured from the lowest-scoring one', async () => {
    // From the 10.5° positive (cos 0.98325) the bound would be 0.78325 and d39 would pass.
    const corpus = [{ text: 'p1', deg: 10.5 }, { text: 'p2', deg: 20.5 }, ...grid(90)];
    const r = await mine([{ text: 'q', deg: 0, positives: ['p1', 'p2'] }], corpus, { rankMin: 0, rankMax: 90, negatives: 1, margin: 0.2 });
    expect(texts(r)).toEqual(['d43']);
  });

  it('a margin without a positive to measure from is refused', async () => {
    await expect(mine([{ text: 'q', deg: 0 }], grid(20), { margin: 0.1 })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining("anchor 0 ('q') has no positive") });
  });

  it('labelled anchors never see texts carrying their label; ranks count the other labels only', async () => {
    const corpus: Doc[] = [
      { text: 'a0', deg: 0, labels: ['A'] },
      { text: 'a1', deg: 1, labels: ['A'] },
      { text: 'a2', deg: 2, labels: ['A'] },
      { text: 'ab3', deg: 3, labels: ['A', 'B'] },
      { text: 'b4', deg: 4, labels: ['B'] },
      { text: 'b5', deg: 5, labels: ['B'] },
      { text: 'c6', deg: 6.5, labels: ['C'] },
      { text: 'free', deg: 8 },
    ];
    const anchors = [
      { text: 'a0', deg: 0, label: 'A' },
      { text: 'b4', deg: 4, label: 'B' },
    ];
    const r = await mine(anchors, corpus, { rankMin: 0, rankMax: 10, negatives: 3 });
    expect(texts(r, 0)).toEqual(['b4', 'b5', 'c6']);
    expect(ranks(r, 0)).toEqual([1, 2, 3]);
    expect(texts(r, 1)).toEqual(['a2', 'c6', 'a1']);
    // Withheld: 4 texts carry A (a0 itself and ab3 included), 3 carry B.
    expect(r.removed.sameLabel).toBe(7);
    // The unlabelled text is a candidate for everyone.
    const more = await mine(anchors, corpus, { rankMin: 0, rankMax: 10, negatives: 5 });
    expect(texts(more, 0)).toContain('free');
  });

  it("'random' samples the eligible window with the seed: same seed same pick, another seed another", async () => {
    const anchors = Array.from({ length: 200 }, (_, i) => ({ text: `q${i}`, deg: 0 }));
    const opts = { rankMin: 0, rankMax: 50, negatives: 3, sampling: 'random' as const };
    const a = await mine(anchors, grid(60), { ...opts, seed: 1 });
    const b = await mine(anchors, grid(60), { ...opts, seed: 1 });
    const c = await mine(anchors, grid(60), { ...opts, seed: 2 });
    expect(b.negatives).toEqual(a.negatives);
    expect(c.negatives).not.toEqual(a.negatives);
    const hits = new Array<number>(51).fill(0);
    for (const negs of a.negatives) {
      const rk = negs.map((n) => n.rank);
      expect(rk).toEqual([...rk].sort((x, y) => x - y)); // kept in rank order
      expect(new Set(rk).size).toBe(3);
      for (const k of rk) hits[k]++;
    }
    // 600 picks over 50 ranks, 12 expected each: every rank drawn, none favoured.
    expect(hits.slice(1).every((h) => h > 0 && h < 30)).toBe(true);
    expect(hits[0]).toBe(0);
  });

  it('stops with CANCELLED before searching once the signal is aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    let calls = 0;
    const counting: SearchFn = async (...a) => {
      calls++;
      return bruteForceTopK(...a);
    };
    await expect(mine([{ text: 'q', deg: 0 }], grid(20), {}, { search: counting, signal: ctl.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(0);
  });

  it('reports progress per search call and refuses a corpus that repeats a text', async () => {
    const seen: number[] = [];
    await mine([{ text: 'q', deg: 0 }, { text: 'r', deg: 3 }], grid(20), {}, { chunk: 1, onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([1, 2]);
    await expect(mine([{ text: 'q', deg: 0 }], [...grid(3), { text: 'd1', deg: 9 }])).rejects.toThrow(/repeats 1 text/);
  });
});

describe('resolveMineOptions', () => {
  it('fills the documented defaults', () => {
    expect(resolveMineOptions()).toEqual({ negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 });
  });

  it.each([
    [{ rankMin: 10, rankMax: 5 }, 'rankMax', '--rank-max 5 is below --rank-min 10'],
    [{ rankMin: 10, rankMax: 10 }, 'rankMax', '--rank-max 10 equals --rank-min 10'],
    [{ rankMin: 10, rankMax: 12, negatives: 3 }, 'negatives', '--negatives 3 cannot be found in ranks 11–12 (2 candidates)'],
    [{ negatives: 0 }, 'negatives', '--negatives 0 must be'],
    [{ rankMin: -1 }, 'rankMin', '--rank-min -1 must be'],
    [{ margin: 0.1, relativeMargin: 0.1 }, 'margin', 'are alternatives'],
    [{ margin: -0.1 }, 'margin', '--margin -0.1 must be'],
    [{ relativeMargin: 1 }, 'relativeMargin', '--relative-margin 1 must be'],
    [{ maxScore: 1.5 }, 'maxScore', '--max-score 1.5 must be'],
    [{ sampling: 'best' as 'top' }, 'sampling', "--sampling 'best' is not a sampling mode"],
    [{ seed: 1.5 }, 'seed', '--seed 1.5 must be'],
  ])('%o is refused naming %s', (opts, setting, message) => {
    let err: unknown;
    try {
      resolveMineOptions(opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'BAD_INPUT', details: { setting }, message: expect.stringContaining(message) });
    expect((err as Error).message).toMatch(/e\.g\.|Fix:/);
  });
});
