// The per-bucket session cache: builds once per key (even when asked twice at once), keys
// are order-free, a failed build can be retried, and release/releaseAll free sessions.

import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { SessionCache, keyString } from './session-cache.js';

function scaleBy(k: number, n: number): Uint8Array {
  const g = new Graph();
  g.output(o.mul(g.input('x', 'float32', [n]), k), 'y');
  return serialize(g);
}

describe('SessionCache', () => {
  it('builds lazily, once per key, and shares a creation in flight', async () => {
    const cache = new SessionCache({ device: 'cpu', threads: 1 });
    let builds = 0;
    const build = (k: number, n: number) => () => {
      builds++;
      return scaleBy(k, n);
    };
    expect(builds).toBe(0);
    const [a, a2] = await Promise.all([
      cache.getOrCreate({ kind: 'step', batch: 2, length: 4 }, build(2, 2)),
      cache.getOrCreate({ length: 4, batch: 2, kind: 'step' }, build(99, 2)),
    ]);
    expect(a).toBe(a2);
    expect(builds).toBe(1);
    const b = await cache.getOrCreate({ kind: 'step', batch: 3, length: 4 }, build(3, 3));
    expect(b).not.toBe(a);
    expect(cache.size).toBe(2);
    expect(cache.has({ batch: 3, kind: 'step', length: 4 })).toBe(true);
    const out = await a.run({ x: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 4]);
    await cache.releaseAll();
    expect(cache.size).toBe(0);
    await expect(a.run({ x: { dtype: 'float32', shape: [2], data: new Float32Array(2) } })).rejects.toThrow();
    await cache.getOrCreate({ kind: 'step', batch: 2, length: 4 }, build(2, 2));
    expect(builds).toBe(3); // rebuilt after releaseAll
    await cache.release({ kind: 'step', batch: 2, length: 4 });
    expect(cache.size).toBe(0);
  });

  it('forgets a failed build so the next call tries again', async () => {
    const cache = new SessionCache({ device: 'cpu', threads: 1 });
    const key = { kind: 'encode', batch: 1, length: 16 };
    await expect(
      cache.getOrCreate(key, () => {
        throw new Error('graph build failed');
      }),
    ).rejects.toThrow('graph build failed');
    expect(cache.has(key)).toBe(false);
    await expect(cache.getOrCreate(key, () => scaleBy(1, 1))).resolves.toBeDefined();
    await cache.releaseAll();
  });

  it('writes keys in a stable order', () => {
    expect(keyString({ length: 64, batch: 32, kind: 'step', device: 'webgpu' })).toBe('batch=32,device=webgpu,kind=step,length=64');
  });
});
