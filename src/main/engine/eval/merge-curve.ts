// The merge slider's curve (issue 18): domain and general-set metrics of (1 − α)·base + α·tuned
// at evenly spaced α from 0 (the base model) to 1 (the tuned one), so the user can pick how
// much of the domain gain to keep against how much general language to lose. Each inner point
// is written as a model folder in a temporary directory, evaluated like any model, and
// removed; the endpoints are the two folders themselves, so they equal evaluating each model
// as it is (a merge takes the tuned model's settings, e.g. its max length, at every α).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import type { LoadedModel } from '../model/load.js';
import { mergeModels } from '../model/merge.js';
import { saveModelFolder } from '../model/save.js';
import { openModelTools } from '../mining/embedder.js';
import type { DevicePref } from '../runtime/index.js';
import { evaluateDataset } from './evaluate.js';
import { evaluateGeneral } from './general.js';

export interface CurvePoint {
  alpha: number;
  /** The user's dataset (its eval split when it has one). */
  domain: Record<string, number>;
  general: Record<string, number>;
}

export interface CurveOptions {
  /** Points from α 0 to 1 inclusive (default 11: steps of 0.1). */
  points?: number;
  device?: DevicePref;
  signal?: AbortSignal;
  onPoint?: (p: CurvePoint, done: number, total: number) => void;
}

export async function mergeCurve(base: LoadedModel, tuned: LoadedModel, dataDir: string, o: CurveOptions = {}): Promise<CurvePoint[]> {
  const n = o.points ?? 11;
  if (!Number.isInteger(n) || n < 2 || n > 101) throw new EngineError('BAD_INPUT', `--sweep ${n}: give from 2 to 101 points (11 gives steps of 0.1)`, { setting: 'sweep' });
  const tmp = await mkdtemp(join(tmpdir(), 'embedsmith-merge-curve-'));
  const out: CurvePoint[] = [];
  try {
    for (let i = 0; i < n; i++) {
      if (o.signal?.aborted) throw new EngineError('CANCELLED', `the merge curve was stopped after ${i} of ${n} points`);
      const alpha = i / (n - 1);
      const inner = i > 0 && i < n - 1;
      const dir = inner ? join(tmp, `alpha-${i}`) : i === 0 ? base.dir : tuned.dir;
      if (inner) await saveModelFolder(mergeModels(base, tuned, alpha).model, dir);
      const tools = await openModelTools(dir, { device: o.device, signal: o.signal });
      try {
        const domain = await evaluateDataset({ dataDir, embed: tools.embed, search: tools.search, signal: o.signal });
        const general = await evaluateGeneral(tools, o.signal);
        const p = { alpha, domain: domain.metrics, general: general.metrics };
        out.push(p);
        o.onPoint?.(p, i + 1, n);
      } finally {
        await tools.dispose();
        if (inner) await rm(dir, { recursive: true, force: true });
      }
    }
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
