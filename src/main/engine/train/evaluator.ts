// Evaluation during training: the eval set embedded with the run's CURRENT weights (not the
// base model's) through the same embedding path as `embedsmith eval`, templates applied per
// role as in training, so the numbers in metrics.jsonl match what eval prints for model/.

import { applyTemplate } from '../data/templates.js';
import { type EmbedFn, evaluateDataset } from '../eval/evaluate.js';
import { embedTexts } from '../model/embed.js';
import { type EmbeddingModel, modelFromLoaded } from '../model/open-model.js';
import type { SearchFn } from '../search/top-k.js';
import type { DevicePref } from '../runtime/index.js';
import type { Evaluate } from './run.js';
import type { TrainSettings } from './settings.js';

/** The role's template applied to each text, embedded without any further prompt. */
export function templatedEmbed(model: EmbeddingModel, template: TrainSettings['template'], maxLength: number): EmbedFn {
  return async (texts, role) => {
    const t = role === 'query' ? template.query : role === 'document' ? template.document : '';
    const r = await embedTexts(model, t === '' ? texts : texts.map((x) => applyTemplate(t, x)), { prompt: '', maxLength });
    return r.embeddings;
  };
}

export function trainingEvaluator(evalDir: string, settings: TrainSettings, search: SearchFn, device: DevicePref = settings.device): Evaluate {
  return async (params, spec, loaded) => {
    const model = await modelFromLoaded({ ...loaded, params }, spec, { device, maxLength: settings.maxLength });
    try {
      const r = await evaluateDataset({ dataDir: evalDir, embed: templatedEmbed(model, settings.template, settings.maxLength), search });
      return r.metrics;
    } finally {
      await model.dispose();
    }
  };
}
