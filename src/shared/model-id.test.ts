import { describe, expect, it } from 'vitest';
import { modelIdProblem } from './model-id.js';

describe('modelIdProblem', () => {
  it('accepts ORG/NAME and ORG/NAME@REVISION as the hub spells them', () => {
    for (const ok of ['BAAI/bge-small-en-v1.5', 'sentence-transformers/all-MiniLM-L6-v2', 'intfloat/e5-small-v2@main', 'org/m@refs/pr/1', `org/m@${'a'.repeat(40)}`]) {
      expect(modelIdProblem(ok), ok).toBeNull();
    }
  });

  it('says what is wrong and how to fix it', () => {
    const cases: [string, RegExp][] = [
      ['', /type a model id/],
      ['https://huggingface.co/BAAI/bge-small-en-v1.5', /paste only the ORG\/NAME part/],
      ['BAAI/bge small', /no spaces/],
      ['all-MiniLM-L6-v2', /organisation too: ORG\/NAME, e.g. sentence-transformers\/all-MiniLM-L6-v2/],
      ['a/b/c', /one '\/'.*has 2/],
      ['/name', /organisation before/],
      ['org/', /model name after/],
      ['org/na$me', /only letters, digits/],
      ['org/name@', /nothing follows '@'/],
      ['org/name@../x', /may not contain '\.\.'/],
    ];
    for (const [arg, want] of cases) expect(modelIdProblem(arg), arg).toMatch(want);
  });
});
