// Instruction templates per role, as the Templates page edits them and the Training page will
// read them: what is put around a text before it is embedded. A template is a prefix, or a
// format with {text}. Kept per project in localStorage because EngineApi has no call to save
// one (the engine's own store, PROJECT/templates.json, is reachable only from the CLI).
// Roles and presets are the engine's own, from src/shared/templates.ts.
import { TEMPLATE_PRESETS, TEMPLATE_ROLES, type InstructionTemplate, type PresetName, type TemplateRole } from '../../../shared/templates.js';

export { TEMPLATE_PRESETS, TEMPLATE_ROLES, type InstructionTemplate, type PresetName, type TemplateRole };
export const PRESET_NAMES = Object.keys(TEMPLATE_PRESETS) as PresetName[];

const KEY = 'embedsmith.templates.';
type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** The preset `t` equals, or null when it was edited into something else. */
export function presetOf(t: InstructionTemplate): PresetName | null {
  return PRESET_NAMES.find((n) => TEMPLATE_ROLES.every((r) => TEMPLATE_PRESETS[n][r] === t[r])) ?? null;
}

/** A problem with one role's template, or null: {text} at most once, so the text is not repeated by accident. */
export function templateProblem(template: string): string | null {
  const n = template.split('{text}').length - 1;
  if (n > 1) return `{text} appears ${n} times, so every text would be repeated ${n} times; keep one`;
  if (/\{\s*text\s*\}/i.test(template) && n === 0) return 'write the placeholder exactly as {text} (lower case, no spaces)';
  return null;
}

function storage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // some embedders forbid storage; templates then last for the session
  }
}

/**
 * The template saved for a project (the 'none' preset if there is none): what the Training
 * page puts into TrainRequest.settings.template, without building a TemplateStore.
 */
export function savedTemplate(projectDir: string | null, store: Store | null = storage()): InstructionTemplate {
  const none: InstructionTemplate = { ...TEMPLATE_PRESETS.none };
  if (!projectDir || !store) return none;
  try {
    const saved = JSON.parse(store.getItem(KEY + projectDir) ?? '{}') as Partial<Record<TemplateRole, unknown>>;
    for (const role of TEMPLATE_ROLES) if (typeof saved[role] === 'string') none[role] = saved[role];
  } catch {
    // A damaged entry reads as no template; the next edit writes a good one.
  }
  return none;
}

export class TemplateStore {
  #store: Store | null;
  #projectDir = $state<string | null>(null);
  #template = $state.raw<InstructionTemplate>({ ...TEMPLATE_PRESETS.none });

  constructor(store: Store | null = storage()) {
    this.#store = store;
  }

  get projectDir(): string | null {
    return this.#projectDir;
  }
  get template(): Readonly<InstructionTemplate> {
    return this.#template;
  }
  /** The preset the template equals, or null once edited away from every preset. */
  get preset(): PresetName | null {
    return presetOf(this.#template);
  }
  /** The two roles training uses (TrainRequest.settings.template). */
  get forTraining(): { query: string; document: string } {
    return { query: this.#template.query, document: this.#template.document };
  }

  /** The open project changed: load its template. */
  setProject(projectDir: string | null): void {
    this.#projectDir = projectDir;
    this.#template = savedTemplate(projectDir, this.#store);
  }

  set(role: TemplateRole, value: string): void {
    this.#save({ ...this.#template, [role]: value });
  }

  usePreset(name: PresetName): void {
    this.#save({ ...TEMPLATE_PRESETS[name] });
  }

  #save(t: InstructionTemplate): void {
    this.#template = t;
    if (!this.#projectDir) return;
    try {
      this.#store?.setItem(KEY + this.#projectDir, JSON.stringify(t));
    } catch {
      // Storage full or forbidden: the template still applies for this session.
    }
  }
}
