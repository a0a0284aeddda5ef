// What the app says about a training loss, as data. The engine's loss units
// (engine/train/losses/<name>.ts) are the one list; EngineInfo.losses carries their
// descriptions to the renderer, which may import only src/shared. Sending them rather than
// keeping a second list here means a loss added to the engine's registry reaches the UI's
// picker with no edit in shared or the renderer, and the two lists cannot disagree.

export interface LossInfo {
  /** The --loss value, as config.json records it. */
  name: string;
  /** Its display name, e.g. 'InfoNCE'. */
  title: string;
  /** Dataset formats it trains on. */
  formats: readonly string[];
  /** Formats for which --loss auto picks it. */
  auto: readonly string[];
  /** One line: what it optimises. */
  doc: string;
  /** The paper or library loss it follows. */
  cite: string;
}

/** The --loss value that picks the loss by the dataset's format (LossInfo.auto). */
export const AUTO_LOSS = 'auto';

export interface LossOption {
  value: string;
  label: string;
  /** Its one-line description, or for 'auto' what it resolves to. */
  why: string;
  /** False when the chosen dataset's format is not one the loss trains on (the engine would refuse the run). */
  fits: boolean;
}

/**
 * The Training page's loss picker (its form model): 'auto', then every loss the engine has
 * (EngineInfo.losses, its registry), each marked whether it trains on the dataset's format
 * (null: no dataset yet). Here, not in the renderer, so the engine's tests can check that a
 * registered loss reaches it.
 */
export function lossOptions(losses: readonly LossInfo[], format: string | null): LossOption[] {
  const auto = format === null ? undefined : losses.find((l) => l.auto.includes(format));
  return [
    {
      value: AUTO_LOSS,
      label: auto ? `Automatic (${auto.title})` : 'Automatic',
      why: format === null ? 'Picked by the dataset’s format.' : auto ? `${auto.title} for ${format} data: ${auto.doc} (${auto.cite}).` : `No loss trains on ${format} data.`,
      fits: format === null || auto !== undefined,
    },
    ...losses.map((l) => ({ value: l.name, label: l.title, why: `${l.doc} (${l.cite}); takes ${l.formats.join(', ')}.`, fits: format === null || l.formats.includes(format) })),
  ];
}
