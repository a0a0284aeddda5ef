import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProjection } from '../host/read-service.js';
import { PROJECTION_SCHEMA_VERSION, projectionView, umapJson } from './projection-file.js';
import type { EmbeddingNeighbours } from './umap.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

let tmp: string;
withTempDir('embedsmith-projection-file-', (d) => (tmp = d));

const points = new Float32Array([0.1, -2, 3.25, 4, 1 / 3, 7]);
const texts = ['first', 'second', 'third'];
const neighbours: EmbeddingNeighbours = {
  n: 3,
  k: 2,
  indices: Int32Array.from([2, 1, 0, 2, 1, 0]),
  scores: Float32Array.from([0.9, -0.25, 0.5, 0.125, 1 / 3, 0.75]),
};

async function fileOf(name: string, body: unknown): Promise<string> {
  const f = join(tmp, name);
  await writeFile(f, typeof body === 'string' ? body : JSON.stringify(body));
  return f;
}

describe('umapJson', () => {
  it('has points as [x, y] pairs, labels (null when missing) and texts; without neighbours, the version-1 shape', () => {
    const j = umapJson(new Float32Array([0.1, -2, 3.25, 4]), ['x', undefined], ['first', 'second']);
    expect(j).toEqual({ points: [[0.1, -2], [3.25, 4]], labels: ['x', null], texts: ['first', 'second'] });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('writes the neighbours as base64 little-endian int32 indices and float32 scores', () => {
    const j = umapJson(points, ['a', 'b', null], texts, neighbours);
    expect(j.schemaVersion).toBe(PROJECTION_SCHEMA_VERSION);
    expect(j.neighbours).toMatchObject({ k: 2, metric: 'cosine' });
    const idx = Buffer.from(j.neighbours!.indices, 'base64');
    const sc = Buffer.from(j.neighbours!.scores, 'base64');
    // Decoded by hand, byte order spelt out, so the writer's layout is pinned independently of the reader.
    expect(Array.from({ length: 6 }, (_, e) => idx.readInt32LE(4 * e))).toEqual([2, 1, 0, 2, 1, 0]);
    expect(Array.from({ length: 6 }, (_, e) => sc.readFloatLE(4 * e))).toEqual(Array.from(neighbours.scores));
    expect([...idx.subarray(0, 4)]).toEqual([2, 0, 0, 0]);
  });
});

describe('readProjection', () => {
  it('reads a version-2 file back with its neighbours as plain numbers (scores to 7 digits)', async () => {
    const f = await fileOf('v2.json', umapJson(points, ['a', 'b', null], texts, neighbours));
    const v = await readProjection(f);
    expect(v.points).toEqual([[0.1, -2], [3.25, 4], [0.3333333, 7]]);
    expect(v.labels).toEqual(['a', 'b', null]);
    expect(v.texts).toEqual(texts);
    expect(v.neighbours).toEqual({ k: 2, indices: [2, 1, 0, 2, 1, 0], scores: [0.9, -0.25, 0.5, 0.125, 0.3333333, 0.75] });
    // What crosses the web bridge: plain JSON, unchanged by the trip.
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it('reads an older file (no schemaVersion, no neighbours) as before: no neighbours', async () => {
    const old = { points: [[0, 0], [1, 0.5], [2, 1]], labels: ['x', null, 'y'], texts: ['a', 'b', 'c'] };
    const v = await readProjection(await fileOf('v1.json', JSON.stringify(old) + '\n'));
    expect(v).toEqual(old);
    expect('neighbours' in v).toBe(false);
    // Written before labels were required: one null per point.
    const bare = await readProjection(await fileOf('v1-bare.json', { points: old.points, texts: old.texts }));
    expect(bare.labels).toEqual([null, null, null]);
  });

  it('refuses a newer version, broken neighbours and mismatched arrays, naming the file and the fix', async () => {
    const good = umapJson(points, undefined, texts, neighbours);
    const newer = await fileOf('v3.json', { ...good, schemaVersion: 3 });
    await expect(readProjection(newer)).rejects.toMatchObject({ code: 'SCHEMA', message: expect.stringMatching(/v3\.json.*newer Embedsmith \(schemaVersion 3; this one reads up to 2\).*update Embedsmith/) });
    const self = Buffer.alloc(24);
    [2, 1, 1, 2, 1, 0].forEach((j, e) => self.writeInt32LE(j, 4 * e)); // point 1 lists itself
    await expect(readProjection(await fileOf('self.json', { ...good, neighbours: { ...good.neighbours, indices: self.toString('base64') } }))).rejects.toMatchObject({
      code: 'SCHEMA',
      message: expect.stringMatching(/point 1 lists neighbour 1, which is itself/),
    });
    const short = await fileOf('short.json', { ...good, neighbours: { ...good.neighbours, k: 1 } });
    await expect(readProjection(short)).rejects.toThrow(/3 points × 1 need 3 of each/);
    await expect(readProjection(await fileOf('texts.json', { ...good, texts: ['a'] }))).rejects.toThrow(/3 points but 1 texts/);
    await expect(readProjection(join(tmp, 'missing.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('checks the shape without a file too', () => {
    expect(() => projectionView([1, 2], 'x.json')).toThrow(/x\.json.*top level must be a JSON object/);
    expect(() => projectionView({ points: [], texts: [], schemaVersion: 0 }, 'x.json')).toThrow(/schemaVersion is 0/);
  });
});
