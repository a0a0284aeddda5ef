import { describe, it, expect } from 'vitest';
import { jsonErrorOffset, lineColumn, parseJsonFile } from './json-file.js';
import { EngineError } from '../../../shared/errors.js';

// The reference is V8's own JSON.parse: it decides valid/invalid, and where its message gives
// "at position N" that is the offset our scanner must find.
const SEED_DOCS = [
  '{"schemaVersion": 1, "name": "Ünïcode \\"q\\" \\u00e9", "n": [-0.5e+3, 0, 12, true, false, null], "o": {}}',
  '[1, [2, [3, {"a": [ ]}]], "x\\\\y\\n", 1E9]',
  ' "just a string" ',
];

function v8Offset(text: string): number | null | 'unknown' {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    const m = /at position (\d+)/.exec((err as Error).message);
    return m ? Number(m[1]) : 'unknown';
  }
}

describe('jsonErrorOffset', () => {
  it('agrees with JSON.parse on validity, and on the offset wherever V8 reports one', () => {
    let compared = 0;
    for (const doc of SEED_DOCS) {
      expect(jsonErrorOffset(doc)).toBeNull();
      // Every single-character deletion and a few insertions: most of them break the document.
      const variants: string[] = [];
      for (let i = 0; i < doc.length; i++) {
        variants.push(doc.slice(0, i) + doc.slice(i + 1));
        for (const ch of [',', '"', '}', 'x', '\\']) variants.push(doc.slice(0, i) + ch + doc.slice(i));
      }
      for (const v of variants) {
        const ref = v8Offset(v);
        const ours = jsonErrorOffset(v);
        if (ref === null) expect(ours, v).toBeNull();
        else expect(ours, v).not.toBeNull();
        if (typeof ref === 'number') {
          expect(ours, v).toBe(ref);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100); // the offset check really ran
  });
});

describe('parseJsonFile', () => {
  it('reports file, line and column of the error', () => {
    const err = (() => {
      try {
        parseJsonFile('/p/project.json', '{\n  "a": 1\n  "b": 2\n}');
      } catch (e) {
        return e;
      }
    })() as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('SCHEMA');
    expect(err.message).toContain('/p/project.json is not valid JSON at line 3, column 3');
    expect(err.details).toMatchObject({ file: '/p/project.json', line: 3, column: 3 });
  });

  it('accepts a leading byte-order mark', () => {
    expect(parseJsonFile('f.json', '\ufeff{"a":1}')).toEqual({ a: 1 });
  });

  it('lineColumn counts from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
