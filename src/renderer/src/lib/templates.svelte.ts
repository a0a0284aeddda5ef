// Instruction templates per role, as the Templates page edits them and the Training page reads
// them: what is put around a text before it is embedded. A template is a prefix, or a format
// with {text}. Kept in the project's templates.json through EngineApi (listTemplates,
// saveTemplate), so `embedsmith train --template NAME`, another machine and a cleared browser
// all see it. The page edits the project's active template ('default' until one is chosen).
// Earlier builds kept it in this browser's localStorage; the first read of a project whose
// templates.json is empty moves it there once (moveFromBrowser below).
// Roles, presets and the rules a saved template meets are the engine's own (src/shared/templates.ts).
import { EngineError, type EngineApi, type ErrorData, type ProjectTemplates } from '../../../shared/api.js';
import { LatestAnswer } from './latest-answer.js';
import {
  TEMPLATE_PRESETS,
  TEMPLATE_ROLES,
  templateProblem,
  type InstructionTemplate,
  type PresetName,
  type TemplateRole,
} from '../../../shared/templates.js';

export { TEMPLATE_PRESETS, TEMPLATE_ROLES, templateProblem, type InstructionTemplate, type PresetName, type TemplateRole };
export const PRESET_NAMES = Object.keys(TEMPLATE_PRESETS) as PresetName[];
/** The name the page saves under while the project has no active template. */
export const DEFAULT_TEMPLATE_NAME = 'default';

const LEGACY_KEY = 'embedsmith.templates.';
type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The preset `t` equals, or null when it was edited into something else. */
export function presetOf(t: InstructionTemplate): PresetName | null {
  return PRESET_NAMES.find((n) => TEMPLATE_ROLES.every((r) => TEMPLATE_PRESETS[n][r] === t[r])) ?? null;
}

/** The first role whose template breaks a rule, with the problem; null when it can be saved. */
export function firstProblem(t: InstructionTemplate): { role: TemplateRole; problem: string } | null {
  for (const role of TEMPLATE_ROLES) {
    const problem = templateProblem(t[role]);
    if (problem) return { role, problem };
  }
  return null;
}

function storage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // some embedders forbid storage: there is then nothing to move
  }
}

/** What an earlier build kept in this browser for the project; null when nothing (or only the empty template) is there. */
function legacyTemplate(projectDir: string, store: Store | null): InstructionTemplate | null {
  try {
    const saved = JSON.parse(store?.getItem(LEGACY_KEY + projectDir) ?? 'null') as Partial<Record<TemplateRole, unknown>> | null;
    if (!saved || typeof saved !== 'object') return null;
    const t: InstructionTemplate = { ...TEMPLATE_PRESETS.none };
    for (const role of TEMPLATE_ROLES) if (typeof saved[role] === 'string') t[role] = saved[role];
    return presetOf(t) === 'none' ? null : t;
  } catch {
    return null; // a damaged entry held no template worth moving
  }
}

function forgetLegacy(projectDir: string, store: Store | null): void {
  try {
    store?.removeItem(LEGACY_KEY + projectDir);
  } catch {
    // Storage forbidden: the entry is ignored anyway once templates.json has a template.
  }
}

/** The one-time move of a template from this browser into the project, as a read found it. */
export type MoveFromBrowser =
  | { ok: true; name: string; file: string }
  | { ok: false; file: string; error: ErrorData; template: InstructionTemplate };

export interface ProjectTemplate {
  /** The name the template is saved under, or will be at the first edit. */
  name: string;
  /** What training uses: the active saved template, or the empty one. */
  template: InstructionTemplate;
  /** Everything templates.json holds. */
  saved: ProjectTemplates;
  /** Set only by the read that tried the move from this browser. */
  moved: MoveFromBrowser | null;
}

// Saves still on their way to the engine, per project: a read waits for them, so the Training
// page opened straight after typing on the Templates page trains with what was typed.
// eslint-disable-next-line svelte/prefer-svelte-reactivity -- promises to wait for, never shown
const writing = new Map<string, Promise<void>>();
// Reads in flight, per project, shared so two readers never both try the move.
// eslint-disable-next-line svelte/prefer-svelte-reactivity -- promises to share, never shown
const reading = new Map<string, Promise<ProjectTemplate>>();

/**
 * The project's active template, read from the engine. If templates.json holds none and this
 * browser holds one from an earlier build, it is saved to the project first (and forgotten here).
 */
export function loadProjectTemplate(engine: EngineApi, projectDir: string, store: Store | null = storage()): Promise<ProjectTemplate> {
  const running = reading.get(projectDir);
  if (running) return running;
  const read = (async (): Promise<ProjectTemplate> => {
    await writing.get(projectDir);
    const saved = await engine.listTemplates(projectDir);
    const active = saved.templates.find((t) => t.name === saved.active);
    if (active) return { name: active.name, template: { ...active.template }, saved, moved: null };
    const name = freeName(saved);
    const none = { name, template: { ...TEMPLATE_PRESETS.none }, saved, moved: null };
    const legacy = saved.templates.length === 0 ? legacyTemplate(projectDir, store) : null;
    if (!legacy) return none;
    try {
      const after = await engine.saveTemplate(projectDir, name, legacy, { active: true });
      forgetLegacy(projectDir, store);
      return { name, template: legacy, saved: after, moved: { ok: true, name, file: after.file } };
    } catch (err) {
      // Kept in this browser: the Templates page shows it, and saves it once it is fixed.
      return { ...none, moved: { ok: false, file: saved.file, error: EngineError.toData(err), template: legacy } };
    }
  })();
  reading.set(projectDir, read);
  // Forget the read either way; its failure reaches the callers through `read` itself.
  const forget = () => void reading.delete(projectDir);
  void read.then(forget, forget);
  return read;
}

/** 'default', or 'default 2' … when a template saved by other means took that name. */
function freeName(saved: ProjectTemplates): string {
  const taken = new Set(saved.templates.map((t) => t.name));
  let name = DEFAULT_TEMPLATE_NAME;
  for (let i = 2; taken.has(name); i++) name = `${DEFAULT_TEMPLATE_NAME} ${i}`;
  return name;
}

/**
 * The Templates page's template: loaded from the project, saved back as it is edited (the page
 * takes no edits while `loading`). Edits that break a rule (templateProblem) stay on the page,
 * unsaved, until fixed; saves go one at a time and a burst of edits sends only the latest after
 * the one in flight.
 */
export class TemplateStore {
  #engine: EngineApi;
  #store: Store | null;
  #projectDir = $state<string | null>(null);
  #name = $state(DEFAULT_TEMPLATE_NAME);
  #template = $state.raw<InstructionTemplate>({ ...TEMPLATE_PRESETS.none });
  #saved = $state.raw<ProjectTemplates | null>(null);
  #loading = $state(false);
  #error = $state.raw<ErrorData | null>(null);
  #moved = $state.raw<MoveFromBrowser | null>(null);
  /** Bumped per project change, so a late read of another project is dropped. */
  #latest = new LatestAnswer();
  #pending: { dir: string; name: string; template: InstructionTemplate } | null = null;
  #flushing: Promise<void> | null = null;

  constructor(engine: EngineApi, store: Store | null = storage()) {
    this.#engine = engine;
    this.#store = store;
  }

  get projectDir(): string | null {
    return this.#projectDir;
  }
  get template(): Readonly<InstructionTemplate> {
    return this.#template;
  }
  /** The name it is saved under in templates.json. */
  get name(): string {
    return this.#name;
  }
  /** What templates.json held after the last read or save; null before the first read. */
  get saved(): ProjectTemplates | null {
    return this.#saved;
  }
  /** The preset the template equals, or null once edited away from every preset. */
  get preset(): PresetName | null {
    return presetOf(this.#template);
  }
  /** The two roles training uses (TrainRequest.settings.template). */
  get forTraining(): { query: string; document: string } {
    return { query: this.#template.query, document: this.#template.document };
  }
  /** The edit on the page breaks a rule and is not saved until it is fixed. */
  get problem(): { role: TemplateRole; problem: string } | null {
    return firstProblem(this.#template);
  }
  get loading(): boolean {
    return this.#loading;
  }
  /** The last read or save failed (the engine's code and message with its fix). */
  get error(): ErrorData | null {
    return this.#error;
  }
  /** The move from this browser that this project's read did (or could not do). */
  get moved(): MoveFromBrowser | null {
    return this.#moved;
  }

  dismissMoved(): void {
    this.#moved = null;
  }

  /** The open project changed: load its template. */
  async setProject(projectDir: string | null): Promise<void> {
    const fresh = this.#latest.ask();
    this.#projectDir = projectDir;
    this.#name = DEFAULT_TEMPLATE_NAME;
    this.#template = { ...TEMPLATE_PRESETS.none };
    this.#saved = null;
    this.#error = null;
    this.#moved = null;
    if (!projectDir) return;
    this.#loading = true;
    try {
      const r = await loadProjectTemplate(this.#engine, projectDir, this.#store);
      if (!fresh()) return;
      this.#name = r.name;
      this.#saved = r.saved;
      this.#moved = r.moved;
      this.#template = r.moved?.ok === false ? r.moved.template : r.template;
    } catch (err) {
      if (fresh()) this.#error = EngineError.toData(err);
    } finally {
      if (fresh()) this.#loading = false;
    }
  }

  set(role: TemplateRole, value: string): void {
    this.#edit({ ...this.#template, [role]: value });
  }

  usePreset(name: PresetName): void {
    this.#edit({ ...TEMPLATE_PRESETS[name] });
  }

  /** Makes another saved template the project's active one and edits it from now on. */
  useSaved(name: string): void {
    const found = this.#saved?.templates.find((t) => t.name === name);
    if (!found) return;
    this.#name = name;
    this.#edit({ ...found.template });
  }

  #edit(t: InstructionTemplate): void {
    this.#template = t;
    const dir = this.#projectDir;
    if (!dir || firstProblem(t)) return;
    this.#pending = { dir, name: this.#name, template: t };
    if (!this.#flushing) {
      const f = this.#flush();
      this.#flushing = f;
      void f.then(() => {
        for (const [d, w] of writing) if (w === f) writing.delete(d);
      });
    }
    writing.set(dir, this.#flushing);
  }

  async #flush(): Promise<void> {
    while (this.#pending) {
      const p = this.#pending;
      this.#pending = null;
      try {
        const saved = await this.#engine.saveTemplate(p.dir, p.name, p.template, { active: true });
        // The template is in the project now; one an earlier build left in this browser is moot.
        forgetLegacy(p.dir, this.#store);
        if (p.dir === this.#projectDir) {
          this.#saved = saved;
          this.#error = null;
          if (this.#moved?.ok === false) this.#moved = { ok: true, name: p.name, file: saved.file };
        }
      } catch (err) {
        if (p.dir === this.#projectDir) this.#error = EngineError.toData(err);
      }
    }
    this.#flushing = null;
  }
}
