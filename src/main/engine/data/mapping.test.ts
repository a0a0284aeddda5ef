import { describe, expect, it } from 'vitest';
import { detectMapping, parseMapSpec } from './mapping.js';
import { sniffDelimiter } from './read-delimited.js';

describe('detectMapping', () => {
  it.each([
    [['anchor', 'positive'], 'pairs', { anchor: 'anchor', positive: 'positive' }],
    [['query', 'passage'], 'pairs', { anchor: 'query', positive: 'passage' }],
    [['Question', 'Answer', 'id'], 'pairs', { anchor: 'Question', positive: 'Answer' }],
    [['text1', 'text2'], 'pairs', { anchor: 'text1', positive: 'text2' }],
    [['anchor', 'positive', 'negative'], 'triplets', { anchor: 'anchor', positive: 'positive', negative: ['negative'] }],
    [['query', 'pos', 'negative_1', 'negative_2'], 'triplets', { anchor: 'query', positive: 'pos', negative: ['negative_1', 'negative_2'] }],
    [['text', 'label'], 'labeled', { text: 'text', label: 'label' }],
    [['sentence1', 'sentence2', 'score'], 'scored', { anchor: 'sentence1', positive: 'sentence2', score: 'score' }],
    [['premise', 'hypothesis', 'label'], 'pairs', { anchor: 'premise', positive: 'hypothesis', label: 'label' }],
  ])('%j → %s', (columns, format, roles) => {
    const m = detectMapping('f.csv', columns);
    expect(m.format).toBe(format);
    expect(m.roles).toEqual(roles);
  });

  it('--map overrides the guess and names a missing column with the list and the fix', () => {
    const m = detectMapping('f.csv', ['question', 'reply', 'notes'], 'auto', parseMapSpec('positive=notes'));
    expect(m.roles).toEqual({ anchor: 'question', positive: 'notes' });
    expect(m.ignored).toEqual(['reply']);
    expect(() => detectMapping('support.csv', ['id', 'question', 'reply'], 'auto', parseMapSpec('positive=answer'))).toThrow(
      "--map positive=answer: column 'answer' not found in support.csv; columns are: id, question, reply",
    );
  });

  it('an undecidable header asks for --map', () => {
    expect(() => detectMapping('f.csv', ['foo', 'bar'])).toThrow(/cannot tell the format of f\.csv from its columns \(foo, bar\).*--map anchor=foo,positive=bar/);
  });

  it('a forced format names the missing role', () => {
    expect(() => detectMapping('f.csv', ['query', 'answer'], 'triplets')).toThrow(/no column for the negative role of the triplets format/);
  });

  it('rejects a malformed --map', () => {
    expect(() => parseMapSpec('anchor')).toThrow(/is not role=column/);
    expect(() => parseMapSpec('colour=x')).toThrow(/roles are anchor/);
    expect([...parseMapSpec(['negative=a', 'negative_2=b']).entries()]).toEqual([['negative', ['a', 'b']]]);
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['a,b\n1,2\n', ','],
    ['a\tb\n1\t2\n', '\t'],
    ['a;b\n"x;y";2\n1,5;3\n', ';'],
    ['a|b|c\n1|2|3\n', '|'],
    ['single\nvalue, with comma\n', ','],
  ])('%j → %j', (sample, d) => expect(sniffDelimiter(sample, false)).toBe(d));
});
