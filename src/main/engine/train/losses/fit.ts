// Whether a loss can train on the data and settings given (trainRun asks before building
// anything). Apart from index.ts because it reads the settings table's defaults, and
// settings.ts reads the registry for --loss's choices: kept one-way.

import { EngineError } from '../../../../shared/errors.js';
import { trainSettingRow } from '../../../../shared/train-settings.js';
import type { TrainSettings } from '../settings.js';
import { losses } from './index.js';
import type { LossUnit } from './unit.js';

/**
 * Refuses a loss on data or settings it cannot train: a format it does not take, a setting of
 * another loss set away from its default (it would be ignored), and the loss's own refusals.
 */
export function checkLossFits(unit: LossUnit, format: string, s: TrainSettings): void {
  if (!unit.formats.includes(format)) {
    throw new EngineError('BAD_INPUT', `--loss ${unit.name} needs ${unit.formats.join(' or ')} data; ${s.data} is '${format}'. Fix: use --loss auto, or another dataset`, { setting: 'loss' });
  }
  for (const other of losses()) {
    for (const key of other.settings) {
      // The row's own default, so a setting registered at run time (not in TRAIN_DEFAULTS) counts too.
      const row = trainSettingRow(key);
      const value = (s as unknown as Record<string, unknown>)[key];
      if (unit.settings.includes(key) || JSON.stringify(value ?? null) === JSON.stringify(row?.default ?? null)) continue;
      const flag = row?.flag ?? key;
      throw new EngineError('BAD_INPUT', `--${flag} is a setting of the ${other.name} loss; the ${unit.name} loss does not use it. Fix: drop --${flag}, or train with --loss ${other.name}`, { setting: flag });
    }
  }
  unit.check?.(s);
}
