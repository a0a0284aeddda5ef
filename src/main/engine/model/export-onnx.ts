// ONNX export (DESIGN §5): `onnx/model.onnx`, the encoder with pooling and normalisation
// inside, weights as initializers, dynamic batch and sequence axes (onnx-dynamic.ts), inputs
// input_ids / attention_mask (+ token_type_ids) int64, outputs sentence_embedding and
// token_embeddings — the layout transformers.js and HF optimum use, so both load it.
//
// fp16 (`onnx/model_fp16.onnx`): the weights are STORED as float16 (half the file) and cast
// to float32 by a Cast node each, so the arithmetic stays float32 and runs on every EP (the
// CPU EP lacks float16 kernels for much of this graph); onnxruntime folds the Casts at load.
//
// External data (onnx's external-data format): a protobuf message cannot exceed 2 GiB, so
// past `externalDataThreshold` bytes of weights every tensor of ≥ 1 KiB goes into
// `<model>.onnx_data` beside the model, page-aligned (onnxruntime can map such offsets), and
// the TensorProto says where: data_location EXTERNAL, external_data {location, offset, length}.
import { access, copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { type EncoderSpec, paramSpecs } from '../nn/index.js';
import { ioError, syncDir, tempPathFor, writeFileAtomic } from '../workspace/atomic.js';
import { withIo } from '../workspace/fs-errors.js';
import { BARE_ARCHITECTURE } from './config.js';
import { type ModelObject, dynamicEncoderModel } from './onnx-dynamic.js';
import { DATA_TYPE, EXTERNAL, ONNX } from './onnx-proto.js';
import type { SavableModel } from './save.js';

export interface ExportOnnxOptions {
  /** Write onnx/model.onnx (default true). */
  fp32?: boolean;
  /** Also write onnx/model_fp16.onnx (float16 weights, float32 arithmetic). */
  fp16?: boolean;
  /** Weight bytes above which tensors go to an external data file (default 2e9, under protobuf's 2 GiB). */
  externalDataThreshold?: number;
}

export interface ExportedFile {
  /** Path of the .onnx file. */
  path: string;
  /** Its external data file, when the weights went there. */
  dataPath?: string;
  weightBytes: number;
}

/** What export needs: an opened model (open-model.ts) or a loaded folder with its spec. */
export interface ExportableModel {
  spec: EncoderSpec;
  loaded: SavableModel;
}

const EXTERNAL_MIN_TENSOR = 1024;
const ALIGN = 4096;

export async function exportOnnx(model: ExportableModel, outDir: string, opts: ExportOnnxOptions = {}): Promise<ExportedFile[]> {
  const { spec, loaded } = model;
  const base = dynamicEncoderModel(spec, {
    metadata: { 'embedsmith.pooling': spec.pooling, 'embedsmith.normalize': String(spec.normalize), 'embedsmith.model_type': String(loaded.config.raw.model_type) },
  });
  const dir = join(outDir, 'onnx');
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw ioError(e, dir, 'create');
  });
  const threshold = opts.externalDataThreshold ?? 2e9;
  const files: ExportedFile[] = [];
  for (const fp16 of [false, true]) {
    if (fp16 ? !opts.fp16 : opts.fp32 === false) continue;
    files.push(await writeVariant(base, model, join(dir, fp16 ? 'model_fp16.onnx' : 'model.onnx'), fp16, threshold));
  }
  await ensureHfFiles(loaded, outDir, files);
  return files;
}

type Initializer = { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array; data_location?: number; external_data?: object[] };

/** The dynamic-axes graph with the weights as initializers (float16 + Cast nodes when `fp16`). */
function withWeights(base: ModelObject, { spec, loaded }: ExportableModel, fp16: boolean): { proto: ModelObject; tensors: Initializer[] } {
  const specs = paramSpecs(spec);
  const keys = new Set(specs.map((s) => s.key));
  const casts: object[] = [];
  const tensors: Initializer[] = specs.map((s) => {
    const data = loaded.params.get(s.key);
    if (!data) throw new EngineError('INTERNAL', `parameter '${s.key}' is missing from the model`);
    if (!fp16) return { name: s.key, dims: s.shape, data_type: DATA_TYPE.float, raw_data: bytesOf(data) };
    casts.push({ name: `${s.key}/cast`, op_type: 'Cast', input: [`${s.key}.fp16`], output: [s.key], attribute: [{ name: 'to', type: 2, i: DATA_TYPE.float }] });
    return { name: `${s.key}.fp16`, dims: s.shape, data_type: DATA_TYPE.float16, raw_data: bytesOf(halves(data, s.key)) };
  });
  const graph = base.graph;
  const proto: ModelObject = {
    ...base,
    graph: {
      ...graph,
      node: [...casts, ...graph.node],
      input: graph.input.filter((v: { name: string }) => !keys.has(v.name)),
      initializer: [...graph.initializer, ...tensors],
    },
  };
  return { proto, tensors };
}

const encode = (proto: ModelObject): Uint8Array => ONNX.ModelProto.encode(ONNX.ModelProto.fromObject(proto)).finish();

/**
 * The encoder with frozen weights and dynamic axes, in memory, int32 inputs: what the engine
 * embeds with (open-model.ts) — one session for every shape, weights pre-packed by onnxruntime.
 */
export function frozenEncoderBytes(model: ExportableModel): Uint8Array {
  return encode(withWeights(dynamicEncoderModel(model.spec, { idsDtype: 'int32', portable: false }), model, false).proto);
}

async function writeVariant(base: ModelObject, model: ExportableModel, path: string, fp16: boolean, threshold: number): Promise<ExportedFile> {
  const { proto, tensors } = withWeights(base, model, fp16);
  const weightBytes = tensors.reduce((n, t) => n + t.raw_data!.byteLength, 0);
  let dataPath: string | undefined;
  if (weightBytes > threshold) {
    dataPath = `${path}_data`;
    await writeExternal(tensors, dataPath);
  } else {
    await rm(`${path}_data`, { force: true }); // a stale one from an earlier, larger export
  }
  await writeFileAtomic(path, encode(proto));
  return { path, dataPath, weightBytes };
}

/** Moves each large tensor's bytes into `dataPath` (page-aligned) and points its TensorProto there. */
async function writeExternal(tensors: Initializer[], dataPath: string): Promise<void> {
  const location = dataPath.slice(dataPath.lastIndexOf('/') + 1);
  const temp = tempPathFor(dataPath);
  const fh = await open(temp, 'wx').catch((e) => {
    throw ioError(e, dataPath, 'write');
  });
  try {
    let offset = 0;
    for (const t of tensors) {
      const bytes = t.raw_data!;
      if (bytes.byteLength < EXTERNAL_MIN_TENSOR) continue;
      offset = Math.ceil(offset / ALIGN) * ALIGN;
      for (let at = 0; at < bytes.byteLength; ) at += (await fh.write(bytes, at, bytes.byteLength - at, offset + at)).bytesWritten;
      t.external_data = [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ];
      t.data_location = EXTERNAL;
      delete t.raw_data;
      offset += bytes.byteLength;
    }
    await fh.sync();
    await fh.close();
    await rename(temp, dataPath);
    await syncDir(dirname(dataPath));
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(temp, { force: true });
    throw ioError(e, dataPath, 'write');
  }
}

/**
 * transformers.js loads `<dir>/onnx/model.onnx` next to config.json and the tokenizer files:
 * write those when the folder has none (an ONNX-only export), and keep config.json's
 * `transformers.js_config.use_external_data_format` true to the files just written.
 */
async function ensureHfFiles(loaded: SavableModel, outDir: string, files: ExportedFile[]): Promise<void> {
  const cfgPath = join(outDir, 'config.json');
  const has = await access(cfgPath).then(() => true, () => false);
  const cfg = has
    ? (JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>)
    : { ...loaded.config.raw, architectures: [BARE_ARCHITECTURE[loaded.config.family]], torch_dtype: 'float32' };
  const before = JSON.stringify(cfg);
  const tjs = { ...((cfg['transformers.js_config'] ?? {}) as Record<string, unknown>) };
  const external = { ...((tjs.use_external_data_format ?? {}) as Record<string, number>) };
  for (const f of files) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (f.dataPath) external[name] = 1;
    else delete external[name];
  }
  if (Object.keys(external).length) tjs.use_external_data_format = external;
  else delete tjs.use_external_data_format;
  if (Object.keys(tjs).length) cfg['transformers.js_config'] = tjs;
  else delete cfg['transformers.js_config'];
  if (has && JSON.stringify(cfg) === before) return;
  await writeFileAtomic(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  if (!has) for (const f of loaded.tokenizerFiles) await withIo(join(outDir, f), 'write', () => copyFile(join(loaded.hfDir, f), join(outDir, f)));
}

function bytesOf(a: Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * float32 → IEEE binary16 bits, round to nearest even: graph/dtype.ts toHalfBits's algorithm on
 * the float's bits read through one Uint32Array view (toHalfBits allocates per call, which
 * costs seconds on a 100M-parameter model). Values past ±65504 are an error, never clamped.
 */
export function halves(data: Float32Array, key = 'tensor'): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!(Math.abs(data[i]) <= 65504)) {
      throw new EngineError('BAD_INPUT', `parameter '${key}' element ${i} is ${data[i]}, outside float16's range (±65504); export without fp16`, { key, index: i });
    }
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const e = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // underflow: signed zero
        continue;
      }
      mant |= 0x800000; // subnormal: shift the implicit bit in
      const shift = 14 - e;
      const half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      out[i] = sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct
    out[i] = sign | half;
  }
  return out;
}
