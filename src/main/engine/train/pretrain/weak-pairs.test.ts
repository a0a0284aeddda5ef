import { describe, expect, it } from 'vitest';
import { type WeakDocument, documentPairs, parseDocument, splitSentences, weakPairs } from './weak-pairs.js';

const SOLAR: WeakDocument = {
  source: 'solar.md',
  text: [
    '# Solar panels',
    '',
    'Solar panels turn sunlight into electricity. They work best facing south.',
    '',
    'Cleaning them twice a year',
    'keeps output high.',
    '',
    '## Installation',
    '',
    'Mount the panels on a sturdy roof rack. Tilt them towards the sun.',
    '',
    '### Wiring',
    'Connect the inverter before the battery.',
    '',
    '## Usage',
    '```sh',
    'solarctl --status',
    '',
    '```',
  ].join('\r\n'),
};
const P0 = 'Solar panels turn sunlight into electricity. They work best facing south.';
const P1 = 'Cleaning them twice a year keeps output high.';
const P2 = 'Mount the panels on a sturdy roof rack. Tilt them towards the sun.';
const P3 = 'Connect the inverter before the battery.';

const REFUND: WeakDocument = { source: 'docs.jsonl:1', title: 'Refund policy', text: 'Refunds are issued within 14 days.\n\nContact support for a refund form.' };
const ALL = ['title-body', 'heading-section', 'adjacent', 'adjacent-sentences'] as const;
const strip = (ps: { anchor: string; positive: string; kind: string }[]) => ps.map((p) => [p.kind, p.anchor, p.positive]);

describe('parseDocument', () => {
  it('takes a first-line # heading as the title, joins wrapped lines, nests sections, skips fenced code', () => {
    expect(parseDocument(SOLAR)).toEqual({
      title: 'Solar panels',
      sections: [
        { level: 0, paragraphs: [P0, P1] },
        { heading: 'Installation', level: 2, paragraphs: [P2] },
        { heading: 'Wiring', level: 3, paragraphs: [P3] },
        { heading: 'Usage', level: 2, paragraphs: [] },
      ],
    });
  });

  it('a JSONL title wins; a # first line is then an ordinary heading', () => {
    expect(parseDocument({ title: 'Given', text: '# Heading one\nText under it.' })).toEqual({
      title: 'Given',
      sections: [{ heading: 'Heading one', level: 1, paragraphs: ['Text under it.'] }],
    });
  });

  it('splits sentences at . ! ? before a capital or digit, not inside "e.g. this" or "3.5 mm"', () => {
    expect(splitSentences('Use e.g. this one. It is 3.5 mm wide! Why? 2 reasons.')).toEqual(['Use e.g. this one.', 'It is 3.5 mm wide!', 'Why?', '2 reasons.']);
  });
});

describe('documentPairs', () => {
  it('builds every kind, in document order', () => {
    expect(strip(documentPairs(SOLAR, 0, { kinds: ALL, maxChars: 1000 }))).toEqual([
      ['title-body', 'Solar panels', [P0, P1, P2, P3].join('\n')],
      ['adjacent', P0, P1],
      ['adjacent-sentences', 'Solar panels turn sunlight into electricity.', 'They work best facing south.'],
      ['heading-section', 'Installation', `${P2}\n${P3}`], // the subsection's text belongs to it
      ['adjacent-sentences', 'Mount the panels on a sturdy roof rack.', 'Tilt them towards the sun.'],
      ['heading-section', 'Wiring', P3],
    ]);
  });

  it('builds only the kinds asked for, and clips long texts at a word boundary', () => {
    expect(strip(documentPairs(REFUND, 3, { kinds: ['title-body'], maxChars: 30 }))).toEqual([['title-body', 'Refund policy', 'Refunds are issued within 14']]);
    expect(documentPairs(REFUND, 3, { kinds: ['adjacent'], maxChars: 1000 })).toEqual([
      { kind: 'adjacent', anchor: 'Refunds are issued within 14 days.', positive: 'Contact support for a refund form.', doc: 3 },
    ]);
  });
});

describe('weakPairs', () => {
  it('drops short texts, anchor = positive and repeated pairs, counting each', () => {
    const echo: WeakDocument = { source: 'echo.txt', text: 'The same paragraph twice.\n\nthe  same paragraph TWICE.' };
    const { pairs, counts } = weakPairs([SOLAR, REFUND, { ...REFUND, source: 'docs.jsonl:2' }, echo], { kinds: ['title-body', 'heading-section', 'adjacent'] });
    expect(strip(pairs)).toEqual([
      ['title-body', 'Solar panels', [P0, P1, P2, P3].join('\n')],
      ['adjacent', P0, P1],
      ['heading-section', 'Installation', `${P2}\n${P3}`],
      ['title-body', 'Refund policy', 'Refunds are issued within 14 days.\nContact support for a refund form.'],
      ['adjacent', 'Refunds are issued within 14 days.', 'Contact support for a refund form.'],
    ]);
    expect(counts).toEqual({
      documents: 4,
      candidates: { 'title-body': 3, 'heading-section': 2, adjacent: 4, 'adjacent-sentences': 0 },
      tooShort: 1, // "Wiring" is under 10 characters
      duplicates: 3, // the second REFUND's two pairs, and echo's paragraph pair (same text up to case and spacing)
      capped: 0,
      pairs: { 'title-body': 2, 'heading-section': 1, adjacent: 2, 'adjacent-sentences': 0 },
    });
  });

  it('caps a document by a seeded sample that keeps title-body and document order', () => {
    const paras = Array.from({ length: 40 }, (_, i) => `Paragraph number ${i} of the long manual.`);
    const long: WeakDocument = { source: 'long.md', text: `# Long manual\n\n${paras.join('\n\n')}` };
    const run = (seed: number, first: WeakDocument = REFUND) => weakPairs([first, long], { maxPairsPerDoc: 5, seed });
    const a = run(7);
    const mine = a.pairs.filter((p) => p.doc === 1);
    expect(mine).toHaveLength(5);
    expect(mine[0].kind).toBe('title-body');
    const at = mine.slice(1).map((p) => paras.indexOf(p.anchor));
    expect(at).toEqual([...at].sort((x, y) => x - y));
    expect(at.every((i) => i >= 0 && i < 39)).toBe(true);
    expect(a.counts.capped).toBe(1 + 39 - 5); // title-body + 39 adjacent pairs, capped to 5
    // Same seed, same sample — even when the document before it is a different one.
    expect(run(7, { source: 'other.txt', text: 'Another first document here.\n\nWith a second paragraph.' }).pairs.filter((p) => p.doc === 1)).toEqual(mine);
    const others = [8, 9, 10].map((s) => strip(run(s).pairs.filter((p) => p.doc === 1)));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(strip(mine)))).toBe(true);
  });

  it('names a bad kind and the kinds there are', () => {
    expect(() => weakPairs([SOLAR], { kinds: ['title-body', 'sentences' as never] })).toThrow(/--pairs: 'sentences' is not a pair kind; kinds are title-body, heading-section, adjacent, adjacent-sentences/);
  });
});
