// What one training loss is (sentence-transformers' losses/ is the model: one module per loss
// naming the data it takes, its parameters and its citation). A unit is plain data plus the
// few functions that differ between losses; the run, the plan, the CLI help, the UI's picker,
// the recipe export and the model card read them from the registry (index.ts) instead of
// asking "which loss is this?" in each place.

import type { LossInfo } from '../../../../shared/losses.js';
import type { StepLoss } from '../../nn/step-loss.js';
import type { BatchInput, StepBatch } from '../batch.js';
import type { Example } from '../examples.js';
import type { TrainSettings } from '../settings.js';

/** A sentence-transformers loss class and its keyword arguments (recipe.ts Recipe.loss). */
export interface RecipeLoss {
  name: string;
  kwargs: Record<string, unknown>;
  matryoshka?: { dims: number[]; weights: number[] };
}

export interface LossUnit extends LossInfo {
  /**
   * The loss's own settings it reads. A setting that belongs to some other loss (another unit
   * lists it) and is set away from its default is refused for this one, not ignored.
   */
  settings: readonly (keyof TrainSettings)[];
  /** Its part of the step graph: rows, data inputs, value (nn/step-loss.ts). */
  step: StepLoss;
  /** N, the mined negatives per query its step scores (0: it takes none). */
  negativesPerQuery(examples: readonly Example[]): number;
  /** Labels the sampler keeps together in batches (SupCon: same-label texts in pairs); none: plain batches. */
  labels?(examples: readonly Example[]): string[];
  /** One step's feeds, in the row order of `step`. */
  batch(x: BatchInput, picks: readonly number[]): StepBatch;
  /** Refusals of setting combinations this loss cannot train, beyond the settings it does not read. */
  check?(s: TrainSettings): void;
  /** sentence-transformers' loss with the same numbers, for `export --format recipe`; absent: the recipe refuses the run. */
  recipe?(s: TrainSettings): RecipeLoss;
  /** The recipe README's sentences on how `recipe`'s loss matches the run (batch: the step's queries); absent: its name and arguments. */
  recipeNote?(loss: RecipeLoss, batch: number): string;
  /** The model card's line: what the loss did. */
  card: string;
}
