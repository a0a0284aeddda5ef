import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeNpy } from '../model/npy.js';
import { atomicWriteFaults } from '../workspace/atomic.js';
import { type EmbeddingKey, cachedEmbeddings, embeddingKey, modelHash } from './embedding-cache.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'embedsmith-embcache-'));
});
afterEach(async () => {
  delete atomicWriteFaults.beforeRename;
  await rm(dir, { recursive: true, force: true });
});

const KEY: EmbeddingKey = { modelHash: 'a'.repeat(64), prompt: 'query: ', texts: ['first text', 'second', 'third one'], modelDir: '/models/minilm' };
const DIM = 4;

/** A compute function that counts its calls and returns distinct values per call. */
function counter() {
  let calls = 0;
  const compute = () => {
    calls++;
    return Promise.resolve(Float32Array.from({ length: 3 * DIM }, (_, i) => i + 100 * calls));
  };
  return { compute, calls: () => calls };
}

describe('cachedEmbeddings', () => {
  it('computes on a miss, stores <key>.npy + <key>.json, and serves the next call from disk', async () => {
    const c = counter();
    const first = await cachedEmbeddings(dir, KEY, c.compute);
    expect(c.calls()).toBe(1);
    const k = embeddingKey(KEY);
    expect((await readdir(dir)).sort()).toEqual([`${k}.json`, `${k}.npy`]); // no temp files left
    const npy = decodeNpy(await readFile(join(dir, `${k}.npy`)));
    expect(npy.shape).toEqual([3, DIM]);
    expect(Array.from(npy.data)).toEqual(Array.from(first));
    const meta = JSON.parse(await readFile(join(dir, `${k}.json`), 'utf8'));
    expect(meta).toMatchObject({ key: k, modelDir: '/models/minilm', prompt: 'query: ', count: 3, dim: DIM, modelHash: KEY.modelHash });
    expect(Date.parse(meta.created)).toBeGreaterThan(Date.now() - 60_000);

    const again = await cachedEmbeddings(dir, KEY, c.compute);
    expect(c.calls()).toBe(1);
    expect(Array.from(again)).toEqual(Array.from(first));
  });

  it('misses when a text, the order, the prompt or the model changes', async () => {
    const c = counter();
    await cachedEmbeddings(dir, KEY, c.compute);
    const variants: EmbeddingKey[] = [
      { ...KEY, texts: ['first text', 'second', 'third one.'] },
      { ...KEY, texts: ['second', 'first text', 'third one'] },
      { ...KEY, prompt: 'passage: ' },
      { ...KEY, modelHash: 'b'.repeat(64) },
    ];
    for (const [i, v] of variants.entries()) {
      await cachedEmbeddings(dir, v, c.compute);
      expect(c.calls(), `variant ${i}`).toBe(i + 2);
    }
    // The model folder is a note in the meta, not part of the identity.
    await cachedEmbeddings(dir, { ...KEY, modelDir: '/elsewhere' }, c.compute);
    expect(c.calls()).toBe(variants.length + 1);
  });

  it('keys are unambiguous across text boundaries and prompt/text splits', () => {
    const base = { modelHash: 'm', prompt: '' };
    expect(embeddingKey({ ...base, texts: ['ab'] })).not.toBe(embeddingKey({ ...base, texts: ['a', 'b'] }));
    expect(embeddingKey({ ...base, texts: ['ab', 'c'] })).not.toBe(embeddingKey({ ...base, texts: ['a', 'bc'] }));
    expect(embeddingKey({ ...base, texts: ['a\u0000b'] })).not.toBe(embeddingKey({ ...base, texts: ['a', 'b'] }));
    expect(embeddingKey({ modelHash: 'm', prompt: 'q', texts: ['x'] })).not.toBe(embeddingKey({ modelHash: 'm', prompt: '', texts: ['qx'] }));
  });

  const corruptions: [string, (k: string) => Promise<void>][] = [
    ['a truncated .npy', (k) => truncate(join(dir, `${k}.npy`), 100)],
    ['a flipped byte in the .npy data (same size)', async (k) => {
      const p = join(dir, `${k}.npy`);
      const b = await readFile(p);
      b[b.length - 3] ^= 0xff;
      await writeFile(p, b);
    }],
    ['a .json cut in half', async (k) => {
      const p = join(dir, `${k}.json`);
      await writeFile(p, (await readFile(p, 'utf8')).slice(0, 40));
    }],
    ['a missing .json (crash between the two writes)', (k) => rm(join(dir, `${k}.json`))],
    ['a missing .npy', (k) => rm(join(dir, `${k}.npy`))],
  ];
  for (const [what, corrupt] of corruptions) {
    it(`recomputes and rewrites after ${what}`, async () => {
      const c = counter();
      await cachedEmbeddings(dir, KEY, c.compute);
      await corrupt(embeddingKey(KEY));
      const second = await cachedEmbeddings(dir, KEY, c.compute);
      expect(c.calls()).toBe(2);
      expect(second[0]).toBe(200); // the second computation's values, not the damaged file's
      const third = await cachedEmbeddings(dir, KEY, c.compute);
      expect(c.calls()).toBe(2); // the rewritten entry is valid again
      expect(Array.from(third)).toEqual(Array.from(second));
    });
  }

  it('leaves no usable entry when the .json write fails, so the next call recomputes', async () => {
    const c = counter();
    atomicWriteFaults.beforeRename = (temp) => {
      if (/\.json\.[0-9a-f]{12}\.tmp$/.test(temp)) throw new Error('disk full (simulated)'); // after the .npy landed
    };
    await expect(cachedEmbeddings(dir, KEY, c.compute)).rejects.toMatchObject({ code: 'IO' });
    delete atomicWriteFaults.beforeRename;
    await cachedEmbeddings(dir, KEY, c.compute);
    expect(c.calls()).toBe(2);
  });

  it('rejects a compute result that is not whole rows, storing nothing', async () => {
    await expect(cachedEmbeddings(dir, KEY, () => Promise.resolve(new Float32Array(10)))).rejects.toMatchObject({ code: 'INTERNAL', message: /3 texts gave 10 values/ });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('modelHash', () => {
  async function folder(files: Record<string, string | Uint8Array>): Promise<string> {
    const m = join(dir, `model-${Math.random().toString(36).slice(2)}`);
    for (const [name, body] of Object.entries(files)) {
      await mkdir(join(m, name, '..'), { recursive: true });
      await writeFile(join(m, name), body);
    }
    return m;
  }
  const weights = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 31) & 0xff); // several stream chunks
  const base = { 'model.safetensors': weights, 'config.json': '{"hidden_size": 384}' };

  it('is stable for equal folders and changes with weights, config and output-shaping files', async () => {
    const h = await modelHash(await folder(base));
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelHash(await folder(base))).toBe(h);
    const w2 = weights.slice();
    w2[(2 << 20) + 5] ^= 1; // one bit deep in the file, past the first read chunk
    expect(await modelHash(await folder({ ...base, 'model.safetensors': w2 }))).not.toBe(h);
    expect(await modelHash(await folder({ ...base, 'config.json': '{"hidden_size": 385}' }))).not.toBe(h);
    expect(await modelHash(await folder({ ...base, '1_Pooling/config.json': '{"pooling_mode_cls_token": true}' }))).not.toBe(h);
    expect(await modelHash(await folder({ ...base, 'README.md': 'notes' }))).toBe(h); // does not shape the output
  });

  it('hashes sharded folders by index and shards, and refuses names outside the folder', async () => {
    const index = JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } });
    const shards = { 'model.safetensors.index.json': index, 'model-00001-of-00002.safetensors': 'one', 'model-00002-of-00002.safetensors': 'two', 'config.json': '{}' };
    const h = await modelHash(await folder(shards));
    expect(await modelHash(await folder({ ...shards, 'model-00002-of-00002.safetensors': 'TWO' }))).not.toBe(h);
    const evil = JSON.stringify({ weight_map: { a: '../../etc/passwd' } });
    await expect(modelHash(await folder({ ...shards, 'model.safetensors.index.json': evil }))).rejects.toMatchObject({ code: 'SCHEMA' });
  });

  it('names what is missing', async () => {
    await expect(modelHash(await folder({ 'config.json': '{}' }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: /no model\.safetensors/ });
    await expect(modelHash(await folder({ 'model.safetensors': 'w' }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: /no config\.json/ });
  });
});
