// config.json's sizes against the weights' own tensor shapes, read from the safetensors
// headers before any tensor is: a config that disagrees with its weights (a hostile one from
// the hub, or one copied from another model) fails here naming the config field, its value,
// what the weights hold and the fix — not after allocating what the config claims.
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import type { ModelConfig } from './config.js';

// BERT, RoBERTa and MPNet number layers encoder.layer.N; ModernBERT and Qwen3 layers.N.
const LAYER = /^(?:encoder\.layer|layers)\.(\d+)\./;

export function checkConfigAgainstWeights(config: ModelConfig, shapes: ReadonlyMap<string, readonly number[]>, prefix: string, weightsDir: string, files: string): void {
  const configFile = join(weightsDir, 'config.json');
  const shape = (key: string) => shapes.get(prefix + key);
  const fail = (field: string, value: number, holds: string, fixValue: number) => {
    throw new EngineError(
      'SCHEMA',
      `${configFile}: ${field} is ${value} but ${files} holds ${holds}. Fix: set ${field} to ${fixValue}, or use the config.json published with these weights (re-download the model)`,
      { file: configFile, key: field, value, weights: fixValue },
    );
  };
  const word = shape('embeddings.word_embeddings.weight') ?? shape('embeddings.tok_embeddings.weight') ?? shape('embed_tokens.weight');
  if (word?.length === 2) {
    if (word[0] !== config.vocabSize) fail('vocab_size', config.vocabSize, `${word[0]} token embeddings`, word[0]);
    if (word[1] !== config.hiddenSize) fail('hidden_size', config.hiddenSize, `embeddings of width ${word[1]}`, word[1]);
  }
  const pos = shape('embeddings.position_embeddings.weight');
  if (pos?.length === 2 && pos[0] !== config.maxPositionEmbeddings) fail('max_position_embeddings', config.maxPositionEmbeddings, `${pos[0]} position embeddings`, pos[0]);
  const types = shape('embeddings.token_type_embeddings.weight');
  if (types?.length === 2 && types[0] !== config.typeVocabSize) fail('type_vocab_size', config.typeVocabSize, `${types[0]} token-type embeddings`, types[0]);
  let layers = 0;
  for (const key of shapes.keys()) {
    const m = key.startsWith(prefix) ? LAYER.exec(key.slice(prefix.length)) : null;
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  if (layers > 0 && layers !== config.numLayers) fail('num_hidden_layers', config.numLayers, `${layers} layers (0–${layers - 1})`, layers);
  const ffn = shape('encoder.layer.0.intermediate.dense.weight') ?? shape('layers.0.mlp.up_proj.weight');
  if (ffn?.length === 2 && ffn[0] !== config.intermediateSize) fail('intermediate_size', config.intermediateSize, `feed-forward layers of width ${ffn[0]}`, ffn[0]);
}
