// Bench: one training step at the MiniLM-L6 shape (6 layers, hidden 384, 12 heads, vocab
// 30522; InfoNCE over in-batch negatives, clipping, AdamW, dropout 0.1) through the runtime's
// trainer: state on the device, bool keep masks from JS, the step graph from engine/nn.
// Compare with DESIGN §3's table. Random weights: speed does not depend on them.
//
//   bench/run.sh train-step [--device auto|cpu|webgpu|all] [--batch 32] [--length 64]
//                           [--negatives 0] [--steps 5] [--layers 6] [--hidden 384] [--dropout 0.1]
//                           [--family bert|modernbert|mpnet|qwen3|gemma3] [--lora R]
// --lora R: only rank-R adapters of every layer linear train (nn/lora-step.ts, alpha 2R); the
// base weights are frozen inputs without AdamW moments.
// --family modernbert / mpnet / qwen3 / gemma3: the gte-modernbert-base / all-mpnet-base-v2 /
// Qwen3-Embedding-0.6B / EmbeddingGemma-300m (with its two Dense modules) shape instead
// (--layers / --hidden ignored).
//                           [--precision fp32|fp16] [--json] [--torch] [--dropout-masks host|graph]
// --precision fp16: the mixed-precision step (nn/mixed-precision.ts), loss scale 2^16.
// --json: the last line is a JSON array, one object per device run (device, precision, batch,
// length, dropout, medianStepMs, pairsPerSec, graphNodes, peakRssMiB). --torch: also runs
// bench/torch-step.py (the same step in PyTorch on the CPU, Debian's python3-torch, with
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command only) and prints the ratio.

import { spawnSync } from 'node:child_process';
import { ModelProto } from '../graph/onnx-schema.js';
import { selectDevice, probeDevice } from '../runtime/device.js';
import { mulberry32 } from '../../../shared/random.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { type DenseLayer, type EncoderSpec, buildEncode, buildTrainStep, paramSpecs, specFromHfConfig } from '../nn/index.js';
import { createEncoder } from '../runtime/encoder.js';
import { loraSpecOf, loraStep } from '../nn/lora-step.js';
import { initialAdapters } from '../train/lora-adapter.js';
import { fmtMs, timeSteps } from './step-timer.js';
import { frozenEncoderBytes } from '../model/export-onnx.js';
import { createFrozenEncoder } from '../model/frozen-encoder.js';
import { FROZEN_WEIGHT_LIMIT } from '../model/open-model.js';
import type { SavableModel } from '../model/save.js';
import type { Encoder } from '../runtime/index.js';
import { opt } from './args.js';
import { benchBertSpec } from './bert-shape.js';

/** Drop probability for every site: --dropout P (0 <= P < 1); --dropout-pct N is the older spelling. */
function dropoutP(): number {
  const pct = process.argv.includes('--dropout-pct') ? Number(opt('dropout-pct', '10')) / 100 : 0.1;
  const p = Number(opt('dropout', String(pct)));
  if (!(p >= 0 && p < 1)) throw new Error(`--dropout ${p} must be a probability in [0, 1)`);
  return p;
}
const num = (name: string, fallback: number): number => {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
};

/** config.json sizes of the base models the other families are benchmarked at. */
const BASE_SHAPES: Record<string, Record<string, unknown>> = {
  // gte-modernbert-base / modernbert-embed-base.
  modernbert: {
    model_type: 'modernbert', vocab_size: 50368, hidden_size: 768, intermediate_size: 1152, num_hidden_layers: 22, num_attention_heads: 12,
    max_position_embeddings: 8192, global_attn_every_n_layers: 3, local_attention: 128, global_rope_theta: 160000, local_rope_theta: 10000,
  },
  // Qwen3-Embedding-0.6B (596 M parameters: full fine-tuning needs ~9.5 GB for weights and AdamW state alone).
  qwen3: {
    model_type: 'qwen3', vocab_size: 151669, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16,
    num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
    pad_token_id: 151643,
  },
  // EmbeddingGemma-300m (303 M parameters, 4.7 M more in its Dense modules: BASE_DENSE).
  gemma3: {
    model_type: 'gemma3_text', vocab_size: 262144, hidden_size: 768, intermediate_size: 1152, num_hidden_layers: 24, num_attention_heads: 3,
    num_key_value_heads: 1, head_dim: 256, max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_local_base_freq: 10000,
    query_pre_attn_scalar: 256, sliding_window: 512, _sliding_window_pattern: 6, use_bidirectional_attention: true, hidden_activation: 'gelu_pytorch_tanh',
  },
  // all-mpnet-base-v2.
  mpnet: {
    model_type: 'mpnet', vocab_size: 30527, hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12,
    max_position_embeddings: 514, layer_norm_eps: 1e-5, relative_attention_num_buckets: 32, pad_token_id: 1,
  },
};
/** The sentence-transformers Dense modules after a base shape's pooling. */
const BASE_DENSE: Record<string, DenseLayer[]> = {
  gemma3: [{ inFeatures: 768, outFeatures: 3072, bias: false }, { inFeatures: 3072, outFeatures: 768, bias: false }],
};
/** What --json prints per device run. */
interface RunFigures {
  device: Device;
  precision: string;
  batch: number;
  length: number;
  dropout: number;
  medianStepMs: number;
  pairsPerSec: number;
  graphNodes: number;
  peakRssMiB: number;
}

/** --precision fp32|fp16 (the bench feeds fp16's loss scale itself; no device check: a CPU fp16 run shows the cost of emulation). */
function precision(): 'fp32' | 'fp16' {
  const p = opt('precision', 'fp32');
  if (p !== 'fp32' && p !== 'fp16') throw new Error(`--precision must be fp32 or fp16, got '${p}'`);
  return p;
}

/** The same step in PyTorch on the CPU (bench/torch-step.py), or why it could not run. */
function torchStep(batch: number, length: number, dropout: number, steps: number): { medianStepMs: number } | string {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const args = ['bench/torch-step.py', '--batch', String(batch), '--length', String(length), '--dropout', String(dropout), '--steps', String(steps)];
  const r = spawnSync(opt('python', '/usr/bin/python3'), args, { env, encoding: 'utf8' });
  if (r.status !== 0) return `PyTorch step failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { medianStepMs: number };
}

async function main(): Promise<void> {
  const prec = precision();
  const json = process.argv.includes('--json');
  const figures: RunFigures[] = [];
  const hidden = num('hidden', 384);
  const p = dropoutP();
  const family = opt('family', 'bert');
  if (family !== 'bert' && !BASE_SHAPES[family]) throw new Error(`--family ${family}: use bert, ${Object.keys(BASE_SHAPES).join(', ')}`);
  const spec: EncoderSpec = family !== 'bert' ? { ...specFromHfConfig(BASE_SHAPES[family], { dense: BASE_DENSE[family] }), hiddenDropout: p, attentionDropout: p } : benchBertSpec(hidden, num('layers', 6), p);
  const queries = num('batch', 32);
  const length = num('length', 64);
  const negatives = num('negatives', 0);
  const steps = num('steps', 5);
  const which = opt('device', 'auto');
  const devices: Device[] =
    which === 'all' ? DEVICES.filter(() => true) : which === 'auto' ? [(await selectDevice('auto')).device] : [which as Device];

  // BERT-style init: N(0, 0.02) for matrices (Box-Muller), LayerNorm weight 1, biases 0.
  const random = mulberry32(1);
  const params = new Map<string, Float32Array>();
  for (const p of paramSpecs(spec)) {
    const a = new Float32Array(p.shape.reduce((x, y) => x * y, 1));
    if (/norm\.weight$/i.test(p.key)) a.fill(1);
    else if (p.shape.length === 2) for (let i = 0; i < a.length; i++) a[i] = 0.02 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    params.set(p.key, a);
  }
  const rank = num('lora', 0);
  const lora = rank > 0 ? loraSpecOf({ rank, alpha: null, dropout: 0, targets: null }, paramSpecs(spec)) : undefined;
  const base = new Map(params);
  if (lora) for (const [k, a] of initialAdapters(loraStep(paramSpecs(spec), lora), 1)) params.set(k, a);
  const rows = queries * (2 + negatives);
  const ids = Int32Array.from({ length: rows * length }, (_, i) => (i % length === 0 ? 101 : 1000 + Math.floor(random() * 29000)));
  const batch: Record<string, Int32Array> = { input_ids: ids, attention_mask: new Int32Array(rows * length).fill(1) };
  if (spec.typeVocabSize > 1) batch.token_type_ids = new Int32Array(rows * length);
  const n = [...base.values()].reduce((s, a) => s + a.length, 0);
  const trained = lora ? [...params.values()].reduce((s, a) => s + a.length, 0) - n : n;
  console.log(`${family === 'bert' ? 'MiniLM' : family}-shape step: ${spec.layers} layers, hidden ${spec.hidden}, ${(n / 1e6).toFixed(1)} M params; ` +
    `${queries} queries × ${2 + negatives} rows × ${length} tokens; dropout ${p}; ${prec}; ${steps} steady steps; ${lora ? `LoRA r ${rank} (alpha ${lora.alpha}, ${(trained / 1e6).toFixed(2)} M trained)` : 'full fine-tuning'}`);
  console.log('device   build      create+1st   steady     pairs/s   read-back  loss');
  for (const d of devices) {
    const probe = await probeDevice(d);
    if (!probe.ok) {
      console.log(`${d.padEnd(8)} unavailable: ${probe.error}`);
      continue;
    }
    let graphNodes = 0;
    const t = await timeSteps(d, { batch: queries, length }, (s) => {
      // As train/run.ts chooses (JS masks on the CPU, hashed in the graph elsewhere) unless --dropout-masks says.
      const masks = opt('dropout-masks', d === 'cpu' ? 'host' : 'graph') as 'host' | 'graph';
      const step = buildTrainStep(spec, { queries: s.batch, negativesPerQuery: negatives, length: s.length }, { dropoutMasks: masks, precision: prec, lora });
      graphNodes = (ModelProto.decode(step.model).toJSON() as { graph: { node: unknown[] } }).graph.node.length;
      return step;
    }, batch, params, steps, prec === 'fp16' ? 2 ** 16 : undefined);
    console.log(`${d.padEnd(8)} ${fmtMs(t.buildMs).padEnd(10)} ${fmtMs(t.firstStepMs).padEnd(12)} ${fmtMs(t.steadyMs).padEnd(10)} ` +
      `${((queries * 1000) / t.steadyMs).toFixed(1).padEnd(9)} ${fmtMs(t.readBackMs).padEnd(10)} ${t.loss.toFixed(4)} (state ${t.stateLocation})`);
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`         peak RSS so far ${(peakRssMiB / 1024).toFixed(2)} GiB; step graph ${graphNodes} nodes`);
    figures.push({ device: d, precision: prec, batch: queries, length, dropout: p, medianStepMs: +t.steadyMs.toFixed(1),
      pairsPerSec: +((queries * 1000) / t.steadyMs).toFixed(2), graphNodes, peakRssMiB: Math.round(peakRssMiB) });
    if (!json) await encodeThroughput(d, spec, base, random);
  }
  if (process.argv.includes('--torch')) {
    if (negatives > 0 || family !== 'bert' || spec.layers !== 6 || hidden !== 384) console.log('torch: runs the MiniLM shape without negatives only');
    const torch = torchStep(queries, length, p, steps);
    if (typeof torch === 'string') console.log(`torch: ${torch}`);
    else {
      console.log(`torch   PyTorch CPU step ${fmtMs(torch.medianStepMs)}`);
      for (const f of figures) console.log(`         ${f.device}: ${(torch.medianStepMs / f.medianStepMs).toFixed(2)}× PyTorch's speed (${fmtMs(f.medianStepMs)} vs ${fmtMs(torch.medianStepMs)})`);
    }
  }
  if (json) console.log(JSON.stringify(figures));
}

/** Forward-only embedding throughput at the step's length (DESIGN §3 reports it beside the step). */
async function encodeThroughput(device: Device, spec: EncoderSpec, params: Map<string, Float32Array>, random: () => number): Promise<void> {
  const batch = num('encode-batch', 256);
  const runs = num('encode-runs', 3);
  if (batch === 0 || runs === 0) return;
  const inference = { ...spec, hiddenDropout: 0, attentionDropout: 0 };
  await encodeWith('weights as inputs (runtime createEncoder, used while training)',
    await createEncoder({ device, buildEncode: (s) => buildEncode(inference, s), params }), random, spec.typeVocabSize > 1);
  const bytes = [...params.values()].reduce((n, p) => n + p.byteLength, 0);
  if (device === 'cpu' && bytes > FROZEN_WEIGHT_LIMIT) console.log(`frozen weights: skipped, ${(bytes / 1e9).toFixed(2)} GB is past what one ONNX message holds (the app embeds such models with the encoder above)`);
  else if (device === 'cpu') {
    // What the app embeds with on the CPU (model/open-model.ts): weights as initializers.
    const loaded = { params, config: { raw: { model_type: spec.arch } } } as unknown as SavableModel;
    await encodeWith('frozen weights (model/frozen-encoder, the app\'s CPU path)',
      await createFrozenEncoder({ device, model: frozenEncoderBytes({ spec: inference, loaded }) }), random, spec.typeVocabSize > 1);
  }
}

async function encodeWith(label: string, enc: Encoder, random: () => number, types: boolean): Promise<void> {
  const batch = num('encode-batch', 256);
  const length = num('encode-length', 64);
  const runs = num('encode-runs', 3);
  const ids = Int32Array.from({ length: batch * length }, (_, i) => (i % length === 0 ? 101 : 1000 + Math.floor(random() * 29000)));
  const data: Record<string, Int32Array> = { input_ids: ids, attention_mask: new Int32Array(batch * length).fill(1) };
  if (types) data.token_type_ids = new Int32Array(batch * length);
  const shape = { batch, length };
  const t0 = performance.now();
  await enc.embed(data, shape); // session create + first run (shader compile on WebGPU)
  const first = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await enc.embed(data, shape);
    times.push(performance.now() - t);
  }
  await enc.dispose();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`         encode ${batch} × ${length}, ${label}: create+1st ${fmtMs(first)}, median ${fmtMs(median)} → ${((batch * 1000) / median).toFixed(0)} sentences/s; ` +
    `peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GiB`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
