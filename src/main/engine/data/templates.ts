// Instruction templates (issue 5 §6): what is put around a text before it is embedded,
// per role — query, document, or text (labelled data / symmetric tasks). A template is a
// format containing {text}, or a plain prefix. Roles and presets live in src/shared/templates.ts.
// Saved in the project's templates.json ({schemaVersion, templates: {name: template}}).
import { readFile } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';
import { TEMPLATE_PRESETS, TEMPLATE_ROLES, type InstructionTemplate, type PresetName, type TemplateRole } from '../../../shared/templates.js';
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

function checkTemplate(name: string, t: unknown): InstructionTemplate {
  const o = (t ?? {}) as Record<string, unknown>;
  for (const role of TEMPLATE_ROLES) {
    if (typeof o[role] !== 'string') throw new EngineError('BAD_INPUT', `template '${name}' needs a string for the ${role} role (use "" for none).`, { name, role });
  }
  return { query: o.query as string, document: o.document as string, text: o.text as string };
}

export async function loadTemplates(projectDir: string): Promise<Record<string, InstructionTemplate>> {
  const path = projectPaths(projectDir).templates;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  const file = parseJsonFile(path, text) as { schemaVersion?: number; templates?: Record<string, unknown> };
  if (file.schemaVersion !== TEMPLATES_SCHEMA_VERSION || typeof file.templates !== 'object' || file.templates === null) {
    throw new EngineError('SCHEMA', `${path} has schema version ${String(file.schemaVersion)}; this build reads ${TEMPLATES_SCHEMA_VERSION}.`, { path });
  }
  return Object.fromEntries(Object.entries(file.templates).map(([n, t]) => [n, checkTemplate(n, t)]));
}

/** Saves (or replaces) one named template; `from` may be a preset name. */
export async function saveTemplate(projectDir: string, name: string, template: InstructionTemplate | PresetName): Promise<InstructionTemplate> {
  if (name.trim() === '') throw new EngineError('BAD_INPUT', 'a template needs a name.', { setting: 'name' });
  const t = typeof template === 'string' ? presetOrThrow(template) : checkTemplate(name, template);
  const all = await loadTemplates(projectDir);
  all[name] = t;
  await writeJsonAtomic(projectPaths(projectDir).templates, { schemaVersion: TEMPLATES_SCHEMA_VERSION, templates: all });
  return t;
}

export function presetOrThrow(name: string): InstructionTemplate {
  if (!(name in TEMPLATE_PRESETS)) {
    throw new EngineError('BAD_INPUT', `no template preset '${name}'; presets are ${Object.keys(TEMPLATE_PRESETS).join(', ')}.`, { setting: 'preset' });
  }
  return { ...TEMPLATE_PRESETS[name as PresetName] };
}
