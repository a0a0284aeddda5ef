// `embedsmith merge`: the written weights are the interpolation (1 − α)·base + α·tuned of the
// files' own tensors, the endpoints are the two models byte for byte, and mistakes exit 2.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomBert } from '../../model/random-model.js';
import { parseSafetensors, toFloat32 } from '../../model/safetensors.js';
import { mergeCommand } from './merge.js';
import { sink } from '../../../../../test/support/cli-run.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-merge-'));
  await writeRandomBert(join(tmp, 'base'), { tokenizerDir: TOK, seed: 1, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 32 });
  await writeRandomBert(join(tmp, 'tuned'), { tokenizerDir: TOK, seed: 2, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 32, prompts: { query: 'query: ' } });
  await writeRandomBert(join(tmp, 'wide'), { tokenizerDir: TOK, seed: 3, hidden: 24, layers: 1, heads: 2, intermediate: 32, maxPositions: 32 });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function weights(dir: string) {
  return parseSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors')))).tensors;
}

describe('embedsmith merge', () => {
  it('writes (1 − α)·base + α·tuned for every weight, rounded once to float32', async () => {
    const s = sink();
    expect(await mergeCommand(['--base', join(tmp, 'base'), '--tuned', join(tmp, 'tuned'), '--alpha', '0.3', '--out', join(tmp, 'm30')], s.out)).toBe(0);
    expect(s.logs[0]).toMatch(/^merged \d+ tensors as 0\.700 × base \+ 0\.300 × tuned/);
    const [b, t, m] = await Promise.all([weights(join(tmp, 'base')), weights(join(tmp, 'tuned')), weights(join(tmp, 'm30'))]);
    expect([...m.keys()].sort()).toEqual([...t.keys()].sort());
    let checked = 0;
    for (const [key, mt] of m) {
      const bv = toFloat32(b.get(key)!), tv = toFloat32(t.get(key)!), mv = toFloat32(mt);
      expect(mt.shape).toEqual(t.get(key)!.shape);
      for (let i = 0; i < mv.length; i++) {
        // Written independently of the implementation's loop: the float64 formula, then float32.
        const want = Math.fround(0.7 * bv[i]! + 0.3 * tv[i]!);
        if (mv[i] !== want) throw new Error(`${key}[${i}]: ${mv[i]} != ${want}`);
        checked++;
      }
      // A merge strictly between two different models differs from both.
      expect(mv.some((x, i) => x !== bv[i] && x !== tv[i])).toBe(true);
    }
    expect(checked).toBeGreaterThan(1000);
    // The tuned model's prompts travel with the merge.
    expect(JSON.parse(await readFile(join(tmp, 'm30', 'config_sentence_transformers.json'), 'utf8')).prompts).toEqual({ query: 'query: ' });
  });

  it.each([
    ['0', 'base'],
    ['1', 'tuned'],
  ])('alpha %s gives the %s model byte for byte', async (alpha, which) => {
    const out = join(tmp, `end-${alpha}`);
    expect(await mergeCommand(['--base', join(tmp, 'base'), '--tuned', join(tmp, 'tuned'), '--alpha', alpha, '--out', out], sink().out)).toBe(0);
    const [want, got] = await Promise.all([weights(join(tmp, which)), weights(out)]);
    for (const [key, g] of got) expect(Buffer.from(g.bytes).equals(Buffer.from(want.get(key)!.bytes)), key).toBe(true);
  });

  it('refuses a bad alpha, different architectures and an existing --out with exit 2 and the fix', async () => {
    await writeFile(join(tmp, 'precious.txt'), 'keep me');
    const cases: [string[], RegExp][] = [
      [['--alpha', '1.5', '--out', join(tmp, 'x1')], /--alpha must be a number from 0 \(the base model\) to 1/],
      [['--alpha', 'NaN', '--out', join(tmp, 'x2')], /--alpha must be a number/],
      [['--out', join(tmp, 'x3')], /--base, --tuned, --alpha and --out are required/],
      [['--alpha', '0.5', '--out', join(tmp, 'precious.txt')], /precious\.txt is an existing file; this writes a folder there, which would destroy the file\. Fix: give a new folder name/],
    ];
    for (const [extra, message] of cases) {
      const s = sink();
      expect(await mergeCommand(['--base', join(tmp, 'base'), '--tuned', join(tmp, 'tuned'), ...extra], s.out), extra.join(' ')).toBe(2);
      expect(s.errors.join('\n')).toMatch(message);
    }
    const s = sink();
    expect(await mergeCommand(['--base', join(tmp, 'base'), '--tuned', join(tmp, 'wide'), '--alpha', '0.5', '--out', join(tmp, 'x4')], s.out)).toBe(2);
    expect(s.errors.join('\n')).toMatch(/weight 'embeddings\.word_embeddings\.weight' is \[30522, 16\] in the base and \[30522, 24\] in the tuned model/);
    expect(await readFile(join(tmp, 'precious.txt'), 'utf8')).toBe('keep me');
  });
});
