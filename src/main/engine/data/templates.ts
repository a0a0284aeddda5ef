// Instruction templates (issue 5 §6): what is put around a text before it is embedded,
// per role — query, document, or text (labelled data / symmetric tasks). A template is a
// format containing {text}, or a plain prefix. Roles and presets live in src/shared/templates.ts.
// Saved in the project's templates.json ({schemaVersion, active?, templates: {name: template}};
// `active` names the template the app trains with), read and written through EngineApi and the CLI.
import { readFile, stat } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';
import { TEMPLATE_PRESETS, TEMPLATE_ROLES, savedTemplateProblem, type InstructionTemplate, type PresetName, type TemplateRole } from '../../../shared/templates.js';
import type { ProjectTemplates } from '../../../shared/views.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { parseJsonFile } from '../workspace/json-file.js';
import { TEMPLATES_SCHEMA_VERSION, projectPaths } from '../workspace/project.js';
import type { Tokenizer } from '../tokenize/tokenizer.js';

export { TEMPLATE_PRESETS, TEMPLATE_ROLES, type InstructionTemplate, type PresetName, type TemplateRole };

/** `template` applied to `text`: every {text} replaced, or the template used as a prefix. */
export function applyTemplate(template: string, text: string): string {
  return template.includes('{text}') ? template.split('{text}').join(text) : template + text;
}

export function applyRoleTemplate(t: InstructionTemplate, role: TemplateRole, text: string): string {
  return applyTemplate(t[role], text);
}

export interface TemplatePreview {
  /** The text as the model receives it. */
  final: string;
  /** With a tokenizer: tokens the model would see untruncated, special tokens included. */
  tokens?: number;
  /** With a tokenizer: the limit compared against (its maxLength unless given). */
  maxLength?: number;
  /** With a tokenizer: whether the model would cut the text at maxLength. */
  truncated?: boolean;
  /** With a tokenizer: tokens the template itself adds (what an instruction costs). */
  templateTokens?: number;
}

/** What `text` becomes under `template` for `role`, and, given a tokenizer, what it costs in tokens. */
export function previewTemplate(template: InstructionTemplate, role: TemplateRole, text: string, tokenizer?: Tokenizer, maxLength = tokenizer?.maxLength): TemplatePreview {
  if (!TEMPLATE_ROLES.includes(role)) throw new EngineError('BAD_INPUT', `no template role '${String(role)}'; roles are ${TEMPLATE_ROLES.join(', ')}.`, { role });
  const final = applyRoleTemplate(template, role, text);
  if (!tokenizer || maxLength === undefined) return { final };
  const tokens = tokenizer.countTokens(final);
  return { final, tokens, maxLength, truncated: tokens > maxLength, templateTokens: tokens - tokenizer.countTokens(text) };
}

/**
 * sentence-transformers `prompts` (config_sentence_transformers.json) for an exported model.
 * Those prompts can only be prefixes, so a format with text after {text} cannot be exported.
 */
export function templateToPrompts(t: InstructionTemplate): Record<string, string> {
  const prompts: Record<string, string> = {};
  for (const role of TEMPLATE_ROLES) {
    const f = t[role];
    const at = f.indexOf('{text}');
    if (at >= 0 && (at + 6 !== f.length || f.indexOf('{text}', at + 1) >= 0)) {
      throw new EngineError('BAD_INPUT', `the ${role} template '${f}' puts text after {text}; exported models accept only a prefix. Fix: end the template with {text}.`, { role });
    }
    const prefix = at >= 0 ? f.slice(0, at) : f;
    if (prefix !== '') prompts[role] = prefix;
  }
  return prompts;
}

// Checks a template read from templates.json: every role a string. The save-time rules
// (savedTemplateProblem) are not applied to reading, so a hand-edited file still loads.
function checkTemplate(path: string, name: string, t: unknown): InstructionTemplate {
  const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
  for (const role of TEMPLATE_ROLES) {
    if (typeof o[role] !== 'string') {
      throw new EngineError('SCHEMA', `${path}: template '${name}' needs a string for the ${role} role. Fix: write "" for none, in a text editor.`, { path, name, role });
    }
  }
  return { query: o.query as string, document: o.document as string, text: o.text as string };
}

interface TemplatesFile {
  /** Named templates in file order (a Map, so a name such as '__proto__' stays a name). */
  templates: Map<string, InstructionTemplate>;
  /** The one the app trains with; kept only while it names a saved template. */
  active: string | null;
  /** Top-level fields this build does not know, kept so a save does not drop them. */
  extra: Record<string, unknown>;
}

async function readTemplatesFile(projectDir: string): Promise<TemplatesFile> {
  const path = projectPaths(projectDir).templates;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { templates: new Map(), active: null, extra: {} };
  }
  const raw = parseJsonFile(path, text);
  const { schemaVersion, templates, active, ...extra } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (schemaVersion !== TEMPLATES_SCHEMA_VERSION || typeof templates !== 'object' || templates === null || Array.isArray(templates)) {
    throw new EngineError('SCHEMA', `${path} has schema version ${String(schemaVersion)}; this build reads ${TEMPLATES_SCHEMA_VERSION}, with a "templates" object.`, { path });
  }
  const all = new Map(Object.entries(templates).map(([n, t]) => [n, checkTemplate(path, n, t)] as const));
  return { templates: all, active: typeof active === 'string' && all.has(active) ? active : null, extra };
}

async function writeTemplatesFile(projectDir: string, f: TemplatesFile): Promise<void> {
  // `active` is optional in schema 1: a build that does not know it reads the file as before.
  const active = f.active === null ? {} : { active: f.active };
  await writeJsonAtomic(projectPaths(projectDir).templates, { ...f.extra, schemaVersion: TEMPLATES_SCHEMA_VERSION, ...active, templates: Object.fromEntries(f.templates) });
}

function viewOf(projectDir: string, f: TemplatesFile): ProjectTemplates {
  return { file: projectPaths(projectDir).templates, active: f.active, templates: [...f.templates].map(([name, template]) => ({ name, template: { ...template } })) };
}

// Calls on one project's templates.json run one after another (saves read, change and write the
// whole file): two saves close together both land, and a read after a save sees it.
const queues = new Map<string, Promise<unknown>>();
function inTurn<T>(projectDir: string, fn: () => Promise<T>): Promise<T> {
  const key = projectPaths(projectDir).templates;
  const result = (queues.get(key) ?? Promise.resolve()).then(fn);
  const settled = result.catch(() => {});
  queues.set(key, settled);
  void settled.then(() => queues.get(key) === settled && queues.delete(key));
  return result;
}

function checkProjectDir(projectDir: unknown): asserts projectDir is string {
  if (typeof projectDir !== 'string' || projectDir === '') throw new EngineError('BAD_INPUT', `the project folder must be a path, got ${JSON.stringify(projectDir)}. Fix: give the folder holding project.json.`, { setting: 'projectDir' });
}

async function requireProject(projectDir: unknown): Promise<void> {
  checkProjectDir(projectDir);
  const file = projectPaths(projectDir).projectJson;
  if (!(await stat(file).catch(() => null))?.isFile()) {
    throw new EngineError('NOT_FOUND', `${projectDir} is not an Embedsmith project: it has no project.json. Fix: give the project folder (the one holding project.json).`, { dir: projectDir });
  }
}

export async function loadTemplates(projectDir: string): Promise<Record<string, InstructionTemplate>> {
  return Object.fromEntries((await inTurn(projectDir, () => readTemplatesFile(projectDir))).templates);
}

/** The project's saved templates and the active one (EngineApi.listTemplates). */
export async function listProjectTemplates(projectDir: string): Promise<ProjectTemplates> {
  await requireProject(projectDir);
  return inTurn(projectDir, async () => viewOf(projectDir, await readTemplatesFile(projectDir)));
}

/**
 * Saves (or replaces) one named template, refused with BAD_INPUT naming the field when it breaks
 * a rule of savedTemplateProblem; `template` may be a preset name. `active: true` makes it the
 * template the app trains with. Answers the templates after the save.
 */
export async function saveTemplate(projectDir: string, name: string, template: InstructionTemplate | PresetName, options: { active?: boolean } = {}): Promise<ProjectTemplates> {
  const t = typeof template === 'string' ? presetOrThrow(template) : template;
  const problem = savedTemplateProblem(name, t);
  if (problem) throw new EngineError('BAD_INPUT', problem.message, { setting: problem.field, name });
  const clean: InstructionTemplate = { query: t.query, document: t.document, text: t.text };
  checkProjectDir(projectDir);
  // In turn from the call on: saves made together land in the order they were made.
  return inTurn(projectDir, async () => {
    await requireProject(projectDir);
    const f = await readTemplatesFile(projectDir);
    f.templates.set(name, clean);
    if (options.active) f.active = name;
    await writeTemplatesFile(projectDir, f);
    return viewOf(projectDir, f);
  });
}

/** Removes one named template; the active one leaves none active. NOT_FOUND names the saved ones. */
export async function deleteTemplate(projectDir: string, name: string): Promise<ProjectTemplates> {
  checkProjectDir(projectDir);
  // In turn from the call on: saves made together land in the order they were made.
  return inTurn(projectDir, async () => {
    await requireProject(projectDir);
    const f = await readTemplatesFile(projectDir);
    if (!f.templates.delete(name)) {
      const names = [...f.templates.keys()];
      throw new EngineError('NOT_FOUND', `no template '${name}' is saved in ${projectPaths(projectDir).templates}; ${names.length ? `saved: ${names.join(', ')}` : 'none is saved'}.`, { name });
    }
    if (f.active === name) f.active = null;
    await writeTemplatesFile(projectDir, f);
    return viewOf(projectDir, f);
  });
}

/**
 * `--template NAME` of the CLI: a template saved in the project's templates.json, else a preset.
 * `projectDir` is the project the command's data lies in (null outside one).
 */
export async function templateByName(name: string, projectDir: string | null): Promise<InstructionTemplate> {
  const saved = projectDir ? await loadTemplates(projectDir) : {};
  if (Object.hasOwn(saved, name)) return saved[name];
  if (Object.hasOwn(TEMPLATE_PRESETS, name)) return { ...TEMPLATE_PRESETS[name as PresetName] };
  const presets = `presets are ${Object.keys(TEMPLATE_PRESETS).join(', ')}`;
  const where = projectDir
    ? `${projectPaths(projectDir).templates} holds ${Object.keys(saved).length ? Object.keys(saved).join(', ') : 'no templates'}`
    : 'a name saved on the Templates page is found when the data lies inside its project';
  throw new EngineError('BAD_INPUT', `no template '${name}': ${presets}; ${where}. Fix: give one of those names.`, { setting: 'template' });
}

export function presetOrThrow(name: string): InstructionTemplate {
  if (!Object.hasOwn(TEMPLATE_PRESETS, name)) {
    throw new EngineError('BAD_INPUT', `no template preset '${name}'; presets are ${Object.keys(TEMPLATE_PRESETS).join(', ')}.`, { setting: 'preset' });
  }
  return { ...TEMPLATE_PRESETS[name as PresetName] };
}
