// `--max-length` for the commands that embed (mine, eval, umap): the model's own length unless
// given, a warning when a setting reaches past what the model was trained with, and one line on
// how many texts were cut, so no command truncates silently (issue 15 §3).
import { type ModelTools, describeTruncation } from '../../mining/embedder.js';
import { maxLengthWarning, readModelLimits } from '../../train/model-defaults.js';
import { type Out, intOption } from './common.js';

/** The --max-length value (undefined: the model's own), warning on stderr when it exceeds the trained length. */
export async function maxLengthOption(cmd: string, model: string, value: string | undefined, out: Out): Promise<number | undefined> {
  const n = intOption('max-length', value);
  if (n === undefined) return undefined;
  const warning = maxLengthWarning(n, await readModelLimits(model));
  if (warning) out.error(`embedsmith ${cmd}: warning: ${warning}`);
  return n;
}

/** Prints how many texts embedding cut, and at what length; nothing when none were. */
export async function reportTruncation(cmd: string, model: string, tools: ModelTools, out: Out): Promise<void> {
  const t = tools.truncation();
  const limits = await readModelLimits(model);
  const fix =
    t.maxLength < limits.positions
      ? `--max-length N keeps more (the model was trained at ${limits.trained ?? limits.positions} tokens; its positions allow ${limits.positions})`
      : `the model's positions allow no more (${limits.positions})`;
  const line = describeTruncation(t, fix);
  if (line) out.error(`embedsmith ${cmd}: ${line}`);
}
