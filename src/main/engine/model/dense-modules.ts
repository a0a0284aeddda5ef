// The weights of sentence-transformers Dense modules (sentence-config.ts reads their shapes):
// each module folder holds `model.safetensors` with 'linear.weight' [out, in] and, with a bias,
// 'linear.bias' [out]. In memory they are parameters like the encoder's, under
// `dense.<i>.linear.*` (nn's denseKey), so they train, save and export with the rest; a save
// writes them back to module folders of their own.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { denseKey } from '../nn/index.js';
import { ioError } from '../workspace/fs-errors.js';
import { type TensorToWrite, parseSafetensors, toFloat32, writeSafetensors } from './safetensors.js';
import type { DenseModule } from './sentence-config.js';

/** Every Dense module's tensors as float32 parameters, shapes checked against the module configs. */
export async function readDenseWeights(dir: string, modules: readonly DenseModule[]): Promise<{ params: Map<string, Float32Array>; shapes: Map<string, readonly number[]> }> {
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  for (const [i, m] of modules.entries()) {
    const file = join(dir, m.path, 'model.safetensors');
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new EngineError('NOT_FOUND', `${file} does not exist: the Dense module '${m.path}' has no safetensors weights (a pytorch_model.bin is not read). Fix: re-save the model with sentence-transformers ≥ 3, which writes model.safetensors`, { file });
      }
      throw ioError(e, file, 'read');
    }
    const st = parseSafetensors(bytes, file);
    const want: Array<['weight' | 'bias', number[]]> = [['weight', [m.outFeatures, m.inFeatures]], ...(m.bias ? [['bias', [m.outFeatures]] as ['bias', number[]]] : [])];
    for (const [name, shape] of want) {
      const t = st.tensors.get(`linear.${name}`);
      if (!t || t.shape.length !== shape.length || t.shape.some((n, j) => n !== shape[j])) {
        throw new EngineError(
          'SCHEMA',
          `${file}: expected 'linear.${name}' of shape [${shape.join(', ')}] (${m.path}/config.json: in_features ${m.inFeatures}, out_features ${m.outFeatures}), found ${t ? `[${t.shape.join(', ')}]` : 'none'}. Fix: use the module folder published with this config`,
          { file, key: `linear.${name}` },
        );
      }
      params.set(denseKey(i, name), toFloat32(t, `linear.${name}`));
      shapes.set(denseKey(i, name), shape);
    }
  }
  return { params, shapes };
}

/** Writes each Dense module's folder (config.json, model.safetensors) under `dir`, from the parameters. */
export async function writeDenseModules(dir: string, modules: readonly DenseModule[], params: ReadonlyMap<string, Float32Array>): Promise<void> {
  for (const [i, m] of modules.entries()) {
    const folder = join(dir, m.path);
    await mkdir(folder, { recursive: true });
    const tensor = (name: 'weight' | 'bias', shape: number[]): [string, TensorToWrite] => {
      const data = params.get(denseKey(i, name));
      if (!data) throw new EngineError('INTERNAL', `Dense parameter '${denseKey(i, name)}' is missing`);
      return [`linear.${name}`, { dtype: 'F32', shape, data }];
    };
    const tensors = [tensor('weight', [m.outFeatures, m.inFeatures]), ...(m.bias ? [tensor('bias', [m.outFeatures])] : [])];
    await writeFile(join(folder, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
    const config = { in_features: m.inFeatures, out_features: m.outFeatures, bias: m.bias, activation_function: 'torch.nn.modules.linear.Identity' };
    await writeFile(join(folder, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }
}
