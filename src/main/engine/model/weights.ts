// Parameters of a model folder: `model.safetensors`, or shards listed by
// `model.safetensors.index.json` (transformers' sharded format: { weight_map: { key: file } }).
// Keys are matched by name against the parameter list the caller expects (nanoGPT style: the
// checkpoint's own names, a name-by-name copy with asserted shapes).
//
// What happens to tensors the encoder does not use — a deliberate choice:
// - the checkpoint's prefix (`bert.`, `roberta.`, `model.` …, as ForMaskedLM and other
//   task classes write) is found from where the word embeddings live, and stripped;
// - `pooler.*` and any other tensor under the prefix: kept as they are (`passthrough`) and
//   written back by save, because they belong to BertModel and transformers would otherwise
//   re-initialise them at random with a warning. Training does not change them;
// - task heads outside the prefix (`cls.*`, `lm_head.*`, `classifier.*` …) and the
//   `position_ids` / `token_type_ids` buffers: dropped, and listed in `dropped`. A saved
//   folder is a bare encoder (as sentence-transformers saves one): heads would be unused keys.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { parseJsonFile } from '../workspace/json-file.js';
import type { ModelConfig } from './config.js';
import { ioError } from '../workspace/fs-errors.js';
import { checkConfigAgainstWeights } from './config-check.js';
import type { SafeTensor, TensorEntry } from './safetensors.js';
import { openSafetensors, readTensorBytes, readTensorFloat32, type SafetensorsSource } from './safetensors-file.js';

export interface ParamSpec {
  key: string;
  shape: readonly number[];
}
/** The encoder's parameter list for a config (the nn module supplies the real one). */
export type ExpectedParams = (config: ModelConfig) => ParamSpec[];

export interface LoadedWeights {
  /** Every expected parameter as float32, in the expected order, under its bare key. */
  params: Map<string, Float32Array>;
  shapes: Map<string, readonly number[]>;
  /** Tensors kept unchanged and saved back (bare keys): pooler.* and other unknown encoder tensors. */
  passthrough: Map<string, SafeTensor>;
  /** Original keys not kept: task heads and buffers. */
  dropped: string[];
  /** The stripped key prefix ('' for a bare checkpoint). */
  prefix: string;
  /** Source dtypes of the expected parameters, e.g. { F16: 101 }. */
  dtypes: Record<string, number>;
}

const BUFFER = /^embeddings\.(position_ids|token_type_ids)$/;
const HEAD = /^(cls|lm_head|classifier|qa_outputs|score|pre_classifier)\./;
const SHARD_NAME = /^[\w.-]+\.safetensors$/;

export async function readWeights(dir: string, config: ModelConfig, expected: ExpectedParams): Promise<LoadedWeights> {
  const { tensors, files, sources } = await readHeaders(dir);
  try {
    return await readFromHeaders(dir, tensors, files, config, expected);
  } finally {
    await Promise.all(sources.map((s) => s.handle.close().catch(() => {})));
  }
}

/** A tensor named in a header: which open file holds it, and where. */
interface Located {
  src: SafetensorsSource;
  entry: TensorEntry;
}

async function readFromHeaders(dir: string, tensors: Map<string, Located>, files: string, config: ModelConfig, expected: ExpectedParams): Promise<LoadedWeights> {
  const specs = expected(config);
  if (specs.length === 0) throw new EngineError('INTERNAL', 'the expected parameter list is empty');
  const anchor = specs[0].key;
  const hit = [...tensors.keys()].find((k) => k === anchor || k.endsWith(`.${anchor}`));
  if (hit === undefined) {
    throw new EngineError(
      'SCHEMA',
      `${files} has no tensor '${anchor}' (under any prefix such as 'bert.'), expected shape [${specs[0].shape.join(', ')}]; ` +
        `it has ${tensors.size} tensors, e.g. ${[...tensors.keys()].slice(0, 3).join(', ')}. Fix: use the weights of a ${config.modelType} encoder matching config.json`,
      { file: files, key: anchor },
    );
  }
  const prefix = hit.slice(0, hit.length - anchor.length);
  // Sizes in config.json against the tensors' own shapes, before any tensor is read: the
  // message names the config field rather than one tensor of many.
  checkConfigAgainstWeights(config, new Map([...tensors].map(([k, t]) => [k, t.entry.shape])), prefix, dir, files);
  const wanted = new Map(specs.map((s) => [s.key, s.shape]));
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  const keep: Array<[string, Located]> = [];
  const dropped: string[] = [];
  const dtypes: Record<string, number> = {};
  for (const [key, { entry: t }] of tensors) {
    const bare = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
    if (bare === undefined || BUFFER.test(bare) || HEAD.test(bare)) {
      dropped.push(key);
      continue;
    }
    if (!wanted.has(bare)) {
      keep.push([bare, tensors.get(key)!]);
      continue;
    }
    const want = wanted.get(bare)!;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new EngineError(
        'SCHEMA',
        `${files}: tensor '${key}' has shape [${t.shape.join(', ')}] but config.json implies [${want.join(', ')}]. ` +
          'Fix: the weights and config.json come from different models; use the config.json that was saved with these weights',
        { file: files, key, shape: t.shape, expected: [...want] },
      );
    }
    if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) {
      throw new EngineError('SCHEMA', `${files}: tensor '${key}' has dtype ${t.dtype}; parameters must be F32, F16, BF16 or F64 (quantised checkpoints are not supported)`, { file: files, key });
    }
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    shapes.set(bare, t.shape);
  }
  const missing = specs.filter((s) => !shapes.has(s.key));
  if (missing.length > 0) {
    const list = missing.slice(0, 5).map((s) => `'${prefix}${s.key}' [${s.shape.join(', ')}]`).join(', ');
    throw new EngineError(
      'SCHEMA',
      `${files} lacks ${missing.length} tensor(s) that config.json implies: ${list}${missing.length > 5 ? ', …' : ''}. ` +
        'Fix: check num_hidden_layers and the other sizes in config.json, or re-download the model',
      { file: files, missing: missing.map((s) => s.key) },
    );
  }
  // Read in the expected order, so iteration order is the spec's (the graph's input order).
  for (const s of specs) {
    const { src, entry } = tensors.get(prefix + s.key)!;
    params.set(s.key, await readTensorFloat32(src, entry, s.key));
  }
  const passthrough = new Map<string, SafeTensor>();
  for (const [bare, { src, entry }] of keep) passthrough.set(bare, await readTensorBytes(src, entry));
  return { params, shapes, passthrough, dropped, prefix, dtypes };
}

/** Every tensor's header entry in the folder (one file or shards), the open files, and a label naming the file(s) for errors. */
async function readHeaders(dir: string): Promise<{ tensors: Map<string, Located>; files: string; sources: SafetensorsSource[] }> {
  const single = join(dir, 'model.safetensors');
  const one = await openIfExists(single);
  if (one) return { tensors: new Map([...one.entries].map(([k, entry]) => [k, { src: one, entry }])), files: single, sources: [one] };
  const indexFile = join(dir, 'model.safetensors.index.json');
  const indexBytes = await readIfExists(indexFile);
  if (!indexBytes) throw await noWeights(dir);
  const index = parseJsonFile(indexFile, new TextDecoder().decode(indexBytes)) as { weight_map?: Record<string, string> };
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null) {
    throw new EngineError('SCHEMA', `${indexFile} has no 'weight_map' object; re-save the model with save_pretrained`, { file: indexFile });
  }
  const tensors = new Map<string, Located>();
  const sources: SafetensorsSource[] = [];
  try {
    for (const shard of new Set(Object.values(map))) {
      // Names come from a downloaded file: never let one point outside the folder.
      if (typeof shard !== 'string' || !SHARD_NAME.test(shard)) throw new EngineError('SCHEMA', `${indexFile} names shard ${JSON.stringify(shard)}, not a plain *.safetensors file name in the folder`, { file: indexFile });
      const path = join(dir, shard);
      const src = await openIfExists(path);
      if (!src) throw new EngineError('NOT_FOUND', `${indexFile} lists shard ${shard} but ${path} does not exist; re-download the model`, { file: path });
      sources.push(src);
      for (const [k, entry] of src.entries) if (map[k] === shard) tensors.set(k, { src, entry });
    }
    for (const [k, shard] of Object.entries(map)) {
      if (!tensors.has(k)) throw new EngineError('SCHEMA', `${indexFile} puts tensor '${k}' in ${shard}, but that file has no such tensor; re-download the model`, { file: indexFile, key: k });
    }
  } catch (e) {
    await Promise.all(sources.map((s) => s.handle.close().catch(() => {})));
    throw e;
  }
  return { tensors, files: `${dir}/model-*.safetensors`, sources };
}

async function noWeights(dir: string): Promise<EngineError> {
  for (const pickle of ['pytorch_model.bin', 'pytorch_model.bin.index.json']) {
    if (await exists(join(dir, pickle))) {
      return new EngineError(
        'UNSUPPORTED',
        `${dir} has only ${pickle}, a PyTorch pickle: loading a pickle can run arbitrary code, so Embedsmith does not. ` +
          'Fix: convert it to safetensors once with Python — `from transformers import AutoModel; ' +
          `AutoModel.from_pretrained("${dir}").save_pretrained("${dir}", safe_serialization=True)\` — or download a revision that has model.safetensors`,
        { dir, file: pickle },
      );
    }
  }
  return new EngineError('NOT_FOUND', `${dir} has no model.safetensors (nor model.safetensors.index.json); give a Hugging Face model folder, e.g. one from \`embedsmith pull ORG/NAME\``, { dir });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** What `read` gives for `path`, or undefined when there is no such file (a dangling link counts as none). */
async function ifExists<T>(path: string, read: (path: string) => Promise<T>): Promise<T | undefined> {
  try {
    return await read(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw ioError(e, path, 'read');
  }
}

const readIfExists = (path: string): Promise<Uint8Array | undefined> => ifExists(path, (p) => readFile(p));
/** The file's header, or undefined when there is no such file. */
const openIfExists = (path: string): Promise<SafetensorsSource | undefined> => ifExists(path, openSafetensors);
