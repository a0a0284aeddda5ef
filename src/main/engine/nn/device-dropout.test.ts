// Dropout masks hashed in the graph (device-dropout.ts): the graph's bits against the JS
// reference of the same hash, the keep rate over 1e6 draws, independence across sites and
// keys (steps), and a chunk graph's masks being rows of the whole step's. On WebGPU too,
// where a device is there (lavapipe in CI): the int32 ops must give the same bits there.
import { describe, expect, it } from 'vitest';
import { Graph, type HostTensor, serialize } from '../graph/index.js';
import type { DropoutSpec } from '../runtime/contract.js';
import { probeDevice } from '../runtime/device.js';
import { dropoutKey } from '../runtime/dropout.js';
import { type Device, createSession } from '../runtime/session.js';
import { DeviceDropout, keepReference } from './device-dropout.js';

const SITES: DropoutSpec[] = [
  { name: 'a', shape: [1000, 1000], p: 0.1 },
  { name: 'b', shape: [4, 3, 5, 5], p: 0.3 },
  { name: 'c', shape: [1000, 1000], p: 0.1 },
];

async function masks(device: Device, sites: DropoutSpec[], rows: number, key: number, row0: number | null): Promise<Record<string, Uint8Array>> {
  const g = new Graph('masks');
  const d = new DeviceDropout(g, sites, rows, row0 !== null);
  for (const s of sites) g.output(d.mask(s.name, s.shape, s.p).keep, `keep.${s.name}`);
  const session = await createSession(serialize(g), { device, threads: 1 });
  const feeds: Record<string, HostTensor> = { dropout_key: { dtype: 'int32', shape: [], data: new Int32Array([key]) } };
  if (row0 !== null) feeds.dropout_row0 = { dtype: 'int32', shape: [], data: new Int32Array([row0]) };
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(sites.map((s) => [s.name, out[`keep.${s.name}`].data as Uint8Array]));
  } finally {
    await session.release();
  }
}

const rate = (m: Uint8Array) => m.reduce((a, b) => a + b, 0) / m.length;
const agreement = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x === b[i] ? 1 : 0), 0) / a.length;
const webgpu = await probeDevice('webgpu');

describe('dropout masks hashed in the graph', () => {
  it('keep 1 - p of 1e6 draws (within 0.3 %), independently across sites and steps, as the JS reference says', async () => {
    const key = dropoutKey(42, 7);
    const m = await masks('cpu', SITES, 4, key, null);
    expect(Math.abs(rate(m.a) - 0.9) / 0.9).toBeLessThan(0.003);
    expect(Math.abs(rate(m.c) - 0.9) / 0.9).toBeLessThan(0.003);
    // Two independent masks of keep rate q agree on q² + (1-q)² = 0.82 of elements.
    expect(Math.abs(agreement(m.a, m.c) - 0.82)).toBeLessThan(0.003);
    const next = await masks('cpu', SITES, 4, dropoutKey(42, 8), null);
    expect(Math.abs(agreement(m.a, next.a) - 0.82)).toBeLessThan(0.003);
    // Neighbouring elements are independent too (a linear hash would correlate them).
    expect(Math.abs(agreement(m.a.subarray(1), m.a.subarray(0, -1)) - 0.82)).toBeLessThan(0.003);
    // Bit for bit the reference's decisions (every element of the small site, a sample of the big ones).
    m.b.forEach((k, e) => expect(k, `b[${e}]`).toBe(keepReference(key, 1, e, 0.3) ? 1 : 0));
    for (let e = 0; e < 1e6; e += 997) expect(m.c[e], `c[${e}]`).toBe(keepReference(key, 2, e, 0.1) ? 1 : 0);
  });

  it('a chunk of rows gets those rows of the whole graph\'s masks', async () => {
    const key = dropoutKey(1, 3);
    const whole = await masks('cpu', SITES, 4, key, null);
    const chunk = [{ ...SITES[0], shape: [500, 1000] }, { ...SITES[1], shape: [2, 3, 5, 5] }, { ...SITES[2], shape: [500, 1000] }];
    const part = await masks('cpu', chunk, 2, key, 2); // batch rows 2..3 of 4
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(part.a, whole.a.subarray(500_000))).toBe(true);
    expect(same(part.b, whole.b.subarray(150))).toBe(true);
    expect(same(part.c, whole.c.subarray(500_000))).toBe(true);
    expect(same(part.a, whole.a.subarray(0, 500_000))).toBe(false);
  });

  it.skipIf(!webgpu.ok)('gives the same bits on the WebGPU EP', async () => {
    const key = dropoutKey(5, 11);
    const [cpu, gpu] = [await masks('cpu', SITES, 4, key, null), await masks('webgpu', SITES, 4, key, null)];
    for (const s of SITES) expect(Buffer.from(gpu[s.name]).equals(Buffer.from(cpu[s.name])), s.name).toBe(true);
  });
});
