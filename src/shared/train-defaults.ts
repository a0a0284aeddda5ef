// Training defaults that depend on the base model, shared by the CLI, the engine's jobs and
// the Training page so the three suggest the same numbers.

/**
 * The default learning rate for a model `hidden` units wide.
 *
 * sentence-transformers' 2e-5 is tuned for BERT-base-sized encoders (768 wide and up). Narrow
 * models need a larger step for the same change in behaviour: Adam's update has the same size
 * per weight whatever the width, and a narrow layer sums fewer of them. Measured on the demo's
 * 64-wide BERT (resources/demo, mined web-features pairs, max length 32, README "Learning rate"):
 * after one epoch nDCG@10 rose 0.586 → 0.591 at 2e-5 and → 0.66 at 5e-4. The middle step for
 * MiniLM/BGE-small-sized models (384 wide) is the usual fine-tuning choice, not measured here.
 */
export function defaultLearningRate(hidden: number): number {
  if (hidden >= 768) return 2e-5;
  if (hidden >= 384) return 5e-5;
  if (hidden >= 256) return 1e-4;
  return 5e-4;
}

/** What defaultLearningRate's rule says, for help texts and hints. */
export const LEARNING_RATE_RULE = 'by model width: 2e-5 from 768 wide (BERT-base), 5e-5 from 384 (MiniLM, BGE-small), 1e-4 from 256, 5e-4 below';

/** A blank "evaluate every": about five points on the chart, whatever the run's length. */
export function autoEvalEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 5));
}
