// Embeddings cached on disk per (model identity, prompt, exact list of texts), so mining,
// evaluation and projection of the same data with the same model embed it once. One entry is
// <key>.npy (float32 [count, dim], NPY v1.0: numpy opens it) + <key>.json (meta), both written
// atomically (workspace/atomic.ts). The .npy is written first and the .json names its sha256,
// so the .json is the commit record: a crash between the two, a truncated or corrupted .npy,
// or two writers racing all read back as a miss, and the entry is recomputed, never trusted.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { decodeNpy, encodeNpy } from '../model/npy.js';
import { ioError, writeFileAtomic, writeJsonAtomic } from '../workspace/atomic.js';
import { parseJsonFile } from '../workspace/json-file.js';

export interface EmbeddingKey {
  /** modelHash(dir) of the model folder: weights, config and the files that shape its output. */
  modelHash: string;
  /** The instruction prefix / template applied to every text ('' for none). */
  prompt: string;
  /** The exact texts, in order: row i of the result embeds texts[i]. */
  texts: readonly string[];
  /** The model folder, recorded in the meta for people reading the cache (not part of the key). */
  modelDir?: string;
}

export interface EmbeddingMeta {
  format: 'embedsmith-embeddings';
  version: 1;
  key: string;
  modelHash: string;
  modelDir: string | null;
  prompt: string;
  count: number;
  dim: number;
  /** sha256 of the .npy file's bytes: catches truncation and corruption alike. */
  npySha256: string;
  created: string;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** The entry's file name stem: sha256 over the key's fields, each length-prefixed (no ambiguity). */
export function embeddingKey(key: Omit<EmbeddingKey, 'modelDir'>): string {
  const h = createHash('sha256');
  const field = (s: string) => h.update(`${Buffer.byteLength(s)}:`).update(s);
  field('embedsmith-embeddings-v1');
  field(key.modelHash);
  field(key.prompt);
  h.update(`${key.texts.length}#`);
  for (const t of key.texts) field(t);
  return h.digest('hex');
}

/** The cached [count, dim] rows for `key`, or null when absent, incomplete or corrupted. */
export async function readCachedEmbeddings(cacheDir: string, key: EmbeddingKey): Promise<{ data: Float32Array; meta: EmbeddingMeta } | null> {
  const k = embeddingKey(key);
  let meta: EmbeddingMeta;
  let bytes: Uint8Array;
  try {
    meta = JSON.parse(await readFile(join(cacheDir, `${k}.json`), 'utf8')) as EmbeddingMeta;
    bytes = await readFile(join(cacheDir, `${k}.npy`));
  } catch {
    return null; // missing, unreadable or half-written JSON: a miss
  }
  if (meta?.key !== k || meta.count !== key.texts.length || !Number.isInteger(meta.dim) || meta.npySha256 !== sha256(bytes)) return null;
  try {
    const { shape, data } = decodeNpy(bytes);
    if (shape.length !== 2 || shape[0] !== meta.count || shape[1] !== meta.dim) return null;
    return { data, meta };
  } catch {
    return null;
  }
}

/**
 * Embeddings of `key.texts`: from the cache when a valid entry exists, else from `compute`
 * (which must return texts.length × dim float32 values, row-major), stored for next time.
 */
export async function cachedEmbeddings(cacheDir: string, key: EmbeddingKey, compute: () => Promise<Float32Array>): Promise<Float32Array> {
  const hit = await readCachedEmbeddings(cacheDir, key);
  if (hit) return hit.data;
  const data = await compute();
  const count = key.texts.length;
  if (count === 0) {
    if (data.length !== 0) throw new EngineError('INTERNAL', `embedding 0 texts gave ${data.length} values`);
    return data; // nothing to store: an empty entry has no width to record
  }
  if (data.length === 0 || data.length % count !== 0) {
    throw new EngineError('INTERNAL', `embedding ${count} texts gave ${data.length} values, not ${count} rows of equal width`);
  }
  const dim = data.length / count;
  const k = embeddingKey(key);
  const npy = encodeNpy(data, [count, dim]);
  try {
    await mkdir(cacheDir, { recursive: true });
  } catch (err) {
    throw ioError(err, cacheDir, 'create the embedding cache folder');
  }
  await writeFileAtomic(join(cacheDir, `${k}.npy`), npy);
  const meta: EmbeddingMeta = {
    format: 'embedsmith-embeddings',
    version: 1,
    key: k,
    modelHash: key.modelHash,
    modelDir: key.modelDir ?? null,
    prompt: key.prompt,
    count,
    dim,
    npySha256: sha256(npy),
    created: new Date().toISOString(),
  };
  await writeJsonAtomic(join(cacheDir, `${k}.json`), meta);
  return data;
}

// Besides weights and config.json, these change what a folder embeds (tokenisation, pooling,
// normalisation, max length); hashed when present so editing one is a cache miss.
const OUTPUT_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  '1_Pooling/config.json',
];

async function hashFile(h: ReturnType<typeof createHash>, path: string, name: string): Promise<void> {
  const size = (await stat(path)).size;
  h.update(`${name}\0${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

// weights.ts's rule: a shard named by a downloaded index must be a plain file in the folder.
const SHARD_NAME = /^[\w.-]+\.safetensors$/;

/**
 * sha256 identifying a model folder's output: model.safetensors (streamed: weights can be GBs;
 * sharded folders hash their index and every shard), config.json and OUTPUT_FILES present.
 */
export async function modelHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  try {
    if (await exists(single)) {
      await hashFile(h, single, 'model.safetensors');
    } else if (await exists(index)) {
      await hashFile(h, index, 'model.safetensors.index.json');
      const map = (parseJsonFile(index, await readFile(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
      for (const shard of [...new Set(Object.values(map))].sort()) {
        if (!SHARD_NAME.test(shard)) throw new EngineError('SCHEMA', `${index} names shard ${JSON.stringify(shard)}, not a plain *.safetensors file name in the folder; re-download the model`, { file: index });
        await hashFile(h, join(dir, shard), shard);
      }
    } else {
      throw new EngineError('NOT_FOUND', `${dir} has no model.safetensors (nor model.safetensors.index.json) to identify the model by; give a Hugging Face model folder`, { dir });
    }
    const config = join(dir, 'config.json');
    if (!(await exists(config))) throw new EngineError('NOT_FOUND', `${dir} has no config.json; give a complete Hugging Face model folder`, { dir });
    await hashFile(h, config, 'config.json');
    for (const name of OUTPUT_FILES) {
      const path = join(dir, name);
      if (await exists(path)) await hashFile(h, path, name);
      else h.update(`${name}\0absent\0`);
    }
  } catch (err) {
    throw ioError(err, dir, 'hash the model folder'); // EngineErrors pass through unchanged
  }
  return h.digest('hex');
}
