// Weights of any size, read by header first and then tensor by tensor: a file past 2 GiB
// (made sparse, so it costs no disk or time), a bad header on a big file, link loops, and
// configs that describe no real model.
import { open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config.js';
import { loadModelFolder } from './load.js';
import { parseSafetensors, toFloat32 } from './safetensors.js';
import { bertExpected, tinyConfig, writeTinyModel } from '../../../../test/support/tiny-model.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

let tmp: string;
let n = 0;
const fresh = () => join(tmp, `m${n++}`);
const load = (dir: string) => loadModelFolder(dir, { expected: bertExpected });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: { code: string; message: string }) => e);

withTempDir('embedsmith-large-', (d) => (tmp = d));

/** 2.36 GB: past 2 GiB, so every tensor after it sits at an offset no 32-bit read reaches. */
const HUGE = 590_000_000;

/**
 * Rewrites dir/model.safetensors with a dropped task-head tensor of HUGE float32 values first
 * (a hole in a sparse file) and the model's own tensors after it.
 */
async function putBehindHugeTensor(dir: string): Promise<void> {
  const file = join(dir, 'model.safetensors');
  const small = parseSafetensors(await readFile(file));
  const header: Record<string, unknown> = { 'cls.predictions.decoder.weight': { dtype: 'F32', shape: [1, HUGE], data_offsets: [0, HUGE * 4] } };
  let at = HUGE * 4;
  for (const [k, t] of small.tensors) {
    header[k] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.byteLength] };
    at += t.bytes.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const fh = await open(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await fh.write(len, 0, 8, 0);
    await fh.write(json, 0, json.length, 8);
    let pos = 8 + json.length + HUGE * 4;
    for (const t of small.tensors.values()) {
      await fh.write(t.bytes, 0, t.bytes.byteLength, pos);
      pos += t.bytes.byteLength;
    }
  } finally {
    await fh.close();
  }
}

describe('weights past 2 GiB', () => {
  it('loads a 2.36 GB file, reading only the tensors it keeps, with their values intact', async () => {
    for (const dtype of ['F32', 'BF16'] as const) {
      const dir = fresh();
      const written = await writeTinyModel(dir, { dtype });
      const want = parseSafetensors(await readFile(join(dir, 'model.safetensors')));
      await putBehindHugeTensor(dir);
      const m = await load(dir);
      expect(m.params.size).toBe(written.size);
      for (const [k, v] of m.params) expect([dtype, k, v]).toEqual([dtype, k, toFloat32(want.tensors.get(k)!, k)]);
      expect(m.notes.join('\n')).toContain('cls.predictions.decoder.weight');
    }
  });

  it('fails on a bad header of a 3 GB file without reading the file, and on a header that promises more than the file holds', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    const file = join(dir, 'model.safetensors');
    const fh = await open(file, 'w');
    await fh.write(Buffer.from([16, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x4b, 3, 4]), 0, 12, 0); // a zip, not JSON
    await fh.truncate(3_000_000_000);
    await fh.close();
    const e = await failure(load(dir));
    expect(e).toMatchObject({ code: 'SCHEMA' });
    expect(e!.message).toMatch(/model\.safetensors is not a valid safetensors file: its header does not start with '\{'/);
    // The header fits, but its last tensor ends past the data: refused from the header alone.
    const json = Buffer.from(JSON.stringify({ t: { dtype: 'F32', shape: [2_000_000_000], data_offsets: [0, 8_000_000_000] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await writeFile(file, Buffer.concat([len, json]));
    const h = await open(file, 'r+');
    await h.truncate(3_000_000_000);
    await h.close();
    expect((await failure(load(dir)))!.message).toMatch(/tensor 't' ends at byte 8000000000 but the data has \d+ \(truncated file\?\)/);
  });
});

describe('file errors say what is wrong', () => {
  it('a symbolic link loop is named as one, not as a permissions problem', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    await rm(join(dir, 'model.safetensors'));
    await symlink('model.safetensors', join(dir, 'model.safetensors'));
    const e = await failure(load(dir));
    expect(e).toMatchObject({ code: 'IO' });
    expect(e!.message).toMatch(/model\.safetensors \(ELOOP.*link loop/);
    expect(e!.message).not.toMatch(/permission/);
    await rm(join(dir, 'config.json'));
    await symlink('config.json', join(dir, 'config.json'));
    const c = await failure(load(dir));
    expect(c!.message).toMatch(/config\.json \(ELOOP.*link loop/);
    expect(c!.message).not.toMatch(/permission/);
  });
});

describe('config sanity before any allocation', () => {
  it('num_hidden_layers: 1000000 fails naming the field, its value, the limit and the fix, before the weights are opened', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    // Weights that cannot be read at all: the config must be refused first.
    await rm(join(dir, 'model.safetensors'));
    await symlink('model.safetensors', join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...tinyConfig(), num_hidden_layers: 1_000_000 }));
    const e = await failure(load(dir));
    expect(e).toMatchObject({ code: 'SCHEMA' });
    expect(e!.message).toMatch(/config\.json: 'num_hidden_layers' is 1000000, above the limit of 256 .* Fix: use the config\.json that was published with these weights/);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['hidden_size', 1 << 20, /'hidden_size' is 1048576, above the limit of 16384/],
    ['num_attention_heads', 0, /'num_attention_heads' is 0, below the minimum of 1/],
    ['vocab_size', 2e9, /'vocab_size' is 2000000000, above the limit of 1048576/],
    ['max_position_embeddings', 1e8, /'max_position_embeddings' is 100000000, above the limit of 1048576/],
    ['intermediate_size', 1e6, /'intermediate_size' is 1000000, above the limit of 65536/],
    ['type_vocab_size', 5000, /'type_vocab_size' is 5000, above the limit of 1024/],
    ['layer_norm_eps', 0, /'layer_norm_eps' is 0; it must be at least/],
    ['hidden_dropout_prob', 1.5, /'hidden_dropout_prob' is 1\.5; it must be at least 0 and below 1/],
    ['pad_token_id', 40000, /pad_token_id 40000 is not below vocab_size 30522/],
  ];
  it.each(bad)('%s = %j is refused with the limit', (key, value, re) => {
    expect(() => parseModelConfig({ ...tinyConfig(), [key]: value }, 'config.json')).toThrow(re);
  });

  it('a RoBERTa position table no larger than its reserved rows is refused', () => {
    expect(() => parseModelConfig({ ...tinyConfig('roberta'), max_position_embeddings: 2 }, 'config.json')).toThrow(/max_position_embeddings 2 leaves no positions after the pad_token_id \+ 1 = 2/);
  });

  it('accepts the sizes of the largest real encoder (XLM-RoBERTa-XXL)', () => {
    const c = parseModelConfig({ ...tinyConfig('xlm-roberta'), vocab_size: 250880, hidden_size: 4096, num_hidden_layers: 48, num_attention_heads: 32, intermediate_size: 16384, max_position_embeddings: 514 });
    expect(c).toMatchObject({ numLayers: 48, hiddenSize: 4096, vocabSize: 250880 });
  });
});
