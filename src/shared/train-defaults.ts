// Training defaults that depend on the base model, shared by the CLI, the engine's jobs and
// the Training page so the three suggest the same numbers.

/**
 * The default learning rate for a model `hidden` units wide.
 *
 * sentence-transformers' 2e-5 is tuned for BERT-base-sized encoders (768 wide and up). Narrow
 * models need a larger step for the same change: Adam moves every weight by about the rate
 * whatever the width, and a narrow layer sums fewer of those moves. Measured on the demo's
 * 64-wide BERT (resources/demo; mined web-features pairs, max length 32, batch 32, 4 epochs;
 * README "Learning rate and model size"): held-out nDCG@10 0.586 before; 0.601 at 2e-5, 0.645
 * at 1e-4, 0.713 at 5e-4, 0.725 at 1e-3, 0.751 at 2e-3, 0.752 at 5e-3. The steps between
 * (5e-5 at 384 wide for MiniLM/BGE-small, 1e-4 at 256, 5e-4 at 128) are interpolated, not
 * measured here.
 */
export function defaultLearningRate(hidden: number): number {
  if (hidden >= 768) return 2e-5;
  if (hidden >= 384) return 5e-5;
  if (hidden >= 256) return 1e-4;
  if (hidden >= 128) return 5e-4;
  return 2e-3;
}

/** Above this many parameters the app advises LoRA (issue 17): full fine-tuning in float32 with AdamW keeps ~16 bytes per parameter (weights, gradients, two moments) before activations. */
export const LORA_ADVISED_PARAMS = 100e6;

/** What the Models page says about fine-tuning a model of this size: its AdamW state, and whether LoRA is advised. */
export function fineTuningAdvice(params: number): { lora: boolean; text: string } {
  const gib = (params * 16) / 2 ** 30;
  const state = `about ${gib.toFixed(gib < 10 ? 1 : 0)} GiB of weights, gradients and AdamW moments before activations`;
  return params > LORA_ADVISED_PARAMS
    ? { lora: true, text: `LoRA advised (train --lora 16): full fine-tuning keeps ${state}; adapters train a few million parameters instead` }
    : { lora: false, text: `Full fine-tuning fits: it keeps ${state}` };
}

/** A blank "evaluate every": about five points on the chart, whatever the run's length. */
export function autoEvalEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 5));
}
