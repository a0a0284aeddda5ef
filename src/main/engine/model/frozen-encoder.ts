// An Encoder (runtime's interface) over ONE session of the frozen, dynamic-axes encoder graph
// (export-onnx.ts frozenEncoderBytes): the weights are initializers, so onnxruntime folds the
// weight transposes and pre-packs the matrices once, and any (batch, length) runs without a
// new session. runtime's createEncoder feeds the weights as inputs to one static session per
// bucket — what training needs (the same weights change every step) — and pays for it in
// embedding: on the 2-core CPU VM, MiniLM shape, this is ~1.5× faster at equal padding
// (bench/embed). Static buckets remain available (openModel { encoder: 'buckets' }).
import { EngineError } from '../../../shared/errors.js';
import { type Device, type Encoder, OneAtATime, createSession } from '../runtime/index.js';

export interface FrozenEncoderOptions {
  device: Device;
  /** The serialised model: int32 inputs, output 'sentence_embedding' [batch, D]. */
  model: Uint8Array;
  threads?: number;
}

export async function createFrozenEncoder(opts: FrozenEncoderOptions): Promise<Encoder> {
  const session = await createSession(opts.model, { device: opts.device, threads: opts.threads });
  // One run at a time: session.run blocks the thread anyway, and order stays the caller's.
  const calls = new OneAtATime('encoder', 'open the model again');
  const run = async (data: Readonly<Record<string, Int32Array>>, shape: { batch: number; length: number }): Promise<Float32Array> => {
    const feeds = Object.fromEntries(
      session.inputNames.map((name) => {
        const d = data[name];
        if (!d || d.length !== shape.batch * shape.length) {
          throw new EngineError('BAD_INPUT', `input '${name}' must be int32 [${shape.batch}, ${shape.length}]; got ${d ? d.length : 'nothing'}`);
        }
        return [name, { dtype: 'int32' as const, shape: [shape.batch, shape.length], data: d }];
      }),
    );
    const out = (await session.run(feeds, ['sentence_embedding'])).sentence_embedding;
    return out.data as Float32Array;
  };
  return {
    device: opts.device,
    embed(data, shape) {
      return calls.run(() => run(data, shape));
    },
    async dispose() {
      if (!(await calls.close())) return;
      await session.release();
    },
  };
}
