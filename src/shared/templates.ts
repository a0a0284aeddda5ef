// Instruction template roles and presets (issue 5 §6): what is put around a text before it is
// embedded, per role. Shared so the engine (data/templates.ts) and the Templates page use the
// same strings. Presets follow each model family's card:
//   E5 (intfloat/e5-*): "query: " / "passage: ", and "query: " for symmetric tasks;
//   BGE v1.5 (BAAI/bge-*-en-v1.5): an instruction on queries only;
//   Nomic (nomic-embed-text-v1*): "search_query: " / "search_document: " / "classification: ";
//   INSTRUCTOR (hkunlp/instructor-*): "Represent the … for …: " instructions.

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
} as const satisfies Record<string, InstructionTemplate>;
export type PresetName = keyof typeof TEMPLATE_PRESETS;
