// Instruction template roles and presets (issue 5 §6): what is put around a text before it is
// embedded, per role. Shared so the engine (data/templates.ts) and the Templates page use the
// same strings. Presets follow each model family's card:
//   E5 (intfloat/e5-*): "query: " / "passage: ", and "query: " for symmetric tasks;
//   BGE v1.5 (BAAI/bge-*-en-v1.5): an instruction on queries only;
//   Nomic (nomic-embed-text-v1*): "search_query: " / "search_document: " / "classification: ";
//   INSTRUCTOR (hkunlp/instructor-*): "Represent the … for …: " instructions;
//   Qwen3-Embedding: "Instruct: {task}\nQuery:" on queries (no space after the colon), documents bare;
//   EmbeddingGemma: "task: search result | query: " / "title: none | text: ", and
//   "task: classification | query: " for labelled texts (its config_sentence_transformers.json).
// The rules a saved template must meet live here too, so the Templates page flags a problem as
// it is typed with the same words the engine refuses the save with.

export const TEMPLATE_ROLES = ['query', 'document', 'text'] as const;
export type TemplateRole = (typeof TEMPLATE_ROLES)[number];
export type InstructionTemplate = Record<TemplateRole, string>;

export const TEMPLATE_PRESETS = {
  none: { query: '', document: '', text: '' },
  e5: { query: 'query: ', document: 'passage: ', text: 'query: ' },
  bge: { query: 'Represent this sentence for searching relevant passages: ', document: '', text: '' },
  nomic: { query: 'search_query: ', document: 'search_document: ', text: 'classification: ' },
  instructor: {
    query: 'Represent the question for retrieving supporting documents: ',
    document: 'Represent the document for retrieval: ',
    text: 'Represent the text for classification: ',
  },
  qwen3: {
    query: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:',
    document: '',
    text: 'Instruct: Retrieve semantically similar text\nQuery:',
  },
  embeddinggemma: { query: 'task: search result | query: ', document: 'title: none | text: ', text: 'task: classification | query: ' },
} as const satisfies Record<string, InstructionTemplate>;
export type PresetName = keyof typeof TEMPLATE_PRESETS;

/**
 * The preset a model family was trained with, or null where it depends on the checkpoint (a
 * BERT or ModernBERT may be E5, BGE, Nomic or none: its own config_sentence_transformers.json
 * prompts say, and the Models page shows them). Keys are config.json's model_type.
 */
export const FAMILY_PRESETS: Readonly<Record<string, PresetName>> = { qwen3: 'qwen3', gemma3_text: 'embeddinggemma' };

/** The preset to suggest for a model: the family's own, else the preset its saved prompts match, else null. */
export function suggestedPreset(family: string, prompts: Readonly<Record<string, string>>): PresetName | null {
  const own = Object.hasOwn(FAMILY_PRESETS, family) ? FAMILY_PRESETS[family] : null;
  if (own) return own;
  const q = prompts.query ?? '';
  const d = prompts.document ?? prompts.passage ?? '';
  if (q === '' && d === '') return null;
  const names = Object.keys(TEMPLATE_PRESETS) as PresetName[];
  return names.find((n) => TEMPLATE_PRESETS[n].query === q && TEMPLATE_PRESETS[n].document === d) ?? null;
}

/** A problem with one role's template, or null: {text} at most once, so the text is not repeated by accident. */
export function templateProblem(template: string): string | null {
  const n = template.split('{text}').length - 1;
  if (n > 1) return `{text} appears ${n} times, so every text would be repeated ${n} times; keep one`;
  if (/\{\s*text\s*\}/i.test(template) && n === 0) return 'write the placeholder exactly as {text} (lower case, no spaces)';
  return null;
}

// Saved templates are named: the name is a key of the project's templates.json and the value
// of `embedsmith train --template NAME`, so it must fit on a command line.
export const MAX_TEMPLATE_NAME = 100;

/**
 * What is wrong with saving `template` as `name` (the rules the engine enforces on every save),
 * or null. `field` names the part at fault: 'name' or a role.
 */
export function savedTemplateProblem(name: unknown, template: unknown): { field: string; message: string } | null {
  const n = typeof name === 'string' ? name.trim() : '';
  if (n === '') return { field: 'name', message: `a saved template needs a name (got ${JSON.stringify(name)}). Fix: give one, e.g. 'default'.` };
  if (n !== name) return { field: 'name', message: `the template name ${JSON.stringify(name)} starts or ends with spaces. Fix: use ${JSON.stringify(n)}.` };
  if ([...n].length > MAX_TEMPLATE_NAME) return { field: 'name', message: `a template name may have at most ${MAX_TEMPLATE_NAME} characters; '${n.slice(0, 20)}…' has ${[...n].length}. Fix: shorten it.` };
  if (/[\u0000-\u001f\u007f]/.test(n)) return { field: 'name', message: `the template name ${JSON.stringify(n)} holds a control character (newline, tab …). Fix: remove it.` };
  const o = (typeof template === 'object' && template !== null ? template : {}) as Record<string, unknown>;
  for (const role of TEMPLATE_ROLES) {
    const v = o[role];
    if (typeof v !== 'string') return { field: role, message: `template '${n}' needs a string for the ${role} role, got ${JSON.stringify(v) ?? 'nothing'}. Fix: give "" for no template.` };
    const problem = templateProblem(v);
    if (problem) return { field: role, message: `the ${role} template of '${n}' (${JSON.stringify(v)}) is refused: ${problem}.` };
  }
  // `--template NAME` looks up saved templates before presets; a saved one under a preset's name
  // that differs from it would make that name mean two things.
  if (Object.hasOwn(TEMPLATE_PRESETS, n) && TEMPLATE_ROLES.some((r) => TEMPLATE_PRESETS[n as PresetName][r] !== o[r])) {
    return { field: 'name', message: `'${n}' is the name of a preset and this template differs from it. Fix: choose another name, e.g. '${n}-custom'.` };
  }
  return null;
}
