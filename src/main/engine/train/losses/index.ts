// The training losses, as a list (sentence-transformers' losses/__init__.py is the model).
// Adding a loss: one file beside these (unit.ts says what it holds) and one line below. The
// run, the plan, `--loss` and its help, the app's picker (EngineInfo.losses), the recipe
// export and the model card all read this list instead of asking which loss a run has.

import { EngineError } from '../../../../shared/errors.js';
import { AUTO_LOSS, type LossInfo } from '../../../../shared/losses.js';
import { cosent } from './cosent.js';
import { infonce } from './infonce.js';
import { supcon } from './supcon.js';
import type { LossUnit } from './unit.js';

export type { LossUnit, RecipeLoss } from './unit.js';

const LOSSES: LossUnit[] = [
  infonce,
  supcon,
  cosent,
];

export function losses(): readonly LossUnit[] {
  return LOSSES;
}

/** The descriptions the app shows (no functions: they cross the engine's IPC as JSON). */
export function lossInfos(): LossInfo[] {
  return LOSSES.map(({ name, title, formats, auto, doc, cite }) => ({ name, title, formats: [...formats], auto: [...auto], doc, cite }));
}

/** The values --loss takes: 'auto', then every loss. */
export function lossChoices(): string[] {
  return [AUTO_LOSS, ...LOSSES.map((l) => l.name)];
}

/**
 * Adds a loss while the process runs (tests: a loss defined in a test file); returns the
 * function that removes it again. A name already listed is refused.
 */
export function registerLoss(unit: LossUnit): () => void {
  if (LOSSES.some((l) => l.name === unit.name) || unit.name === AUTO_LOSS) {
    throw new EngineError('BAD_INPUT', `a loss named '${unit.name}' is already registered; give the new one another name`);
  }
  LOSSES.push(unit);
  return () => {
    const i = LOSSES.indexOf(unit);
    if (i >= 0) LOSSES.splice(i, 1);
  };
}

/** The unit of a --loss value that is not 'auto'. */
export function lossNamed(name: string): LossUnit {
  const unit = LOSSES.find((l) => l.name === name);
  if (!unit) throw new EngineError('BAD_INPUT', `--loss: '${name}' is not a loss; use ${lossChoices().join(', ')}`, { setting: 'loss' });
  return unit;
}

/** --loss resolved for a dataset format: the named loss, or for 'auto' the first whose `auto` lists the format. */
export function resolveLoss(setting: string, format: string): LossUnit {
  if (setting !== AUTO_LOSS) return lossNamed(setting);
  const unit = LOSSES.find((l) => l.auto.includes(format));
  if (!unit) throw new EngineError('BAD_INPUT', `--loss auto: no loss trains on '${format}' data; losses take ${LOSSES.map((l) => `${l.name} (${l.formats.join(', ')})`).join(', ')}`, { setting: 'loss' });
  return unit;
}

/** README.md's loss table (between its `losses:start` / `losses:end` markers; losses.test.ts keeps the two equal). */
export function lossTable(): string {
  const rows = LOSSES.map((l) => `| \`${l.name}\` | ${l.title} | ${l.formats.join(', ')} | ${l.auto.join(', ') || '—'} | ${l.doc} | ${l.cite} |`);
  return ['| `--loss` | loss | trains on | `auto` picks it for | what it does | after |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
