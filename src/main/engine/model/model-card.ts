// The model card README.md of a saved model (DESIGN §5): YAML front matter the Hugging Face
// hub reads (base_model, library_name, pipeline_tag, tags), then base model, data, settings,
// metrics before/after, seed and software versions — what someone needs to trust or redo it.
export interface ModelCardInfo {
  /** Hub id or path of the model that was fine-tuned, e.g. 'sentence-transformers/all-MiniLM-L6-v2'. */
  baseModel: string;
  /** Optional display name; default: "<baseModel> fine-tuned with Embedsmith". */
  title?: string;
  data: { name: string; rows: number; format?: string; description?: string; negativesPerRow?: number };
  /** Hyper-parameters as shown, e.g. { epochs: 1, batch_size: 32, lr: 2e-5 }. */
  settings: Record<string, string | number | boolean | null>;
  /** Metric name → value before and after training, e.g. { 'ndcg@10': { before: 0.41, after: 0.57 } }. */
  metrics?: Record<string, { before: number; after: number }>;
  seed: number;
  /** Software name → version, e.g. { embedsmith: '0.1.0', 'onnxruntime-node': '1.30.0' }. */
  versions: Record<string, string>;
  /** The card's licence tag; default: not stated (the base model's licence applies). */
  license?: string;
  pooling?: string;
  normalize?: boolean;
  maxSeqLength?: number | null;
  prompts?: Record<string, string>;
  /** Instruction templates by role as trained ('{text}' marks the text; a bare prefix goes before it). */
  template?: { query: string; document: string };
  /** The loss, e.g. 'InfoNCE (MultipleNegativesRankingLoss), in-batch + 3 mined negatives per query'. */
  loss?: string;
  /** Where the metrics come from, e.g. "240 held-out queries of web-features (split.json)". */
  metricsNote?: string;
  /** The command that reproduces the model. */
  command?: string;
  /** Licence lines: the base model's, the data's, this card's. */
  licenses?: string[];
}

/** A Hugging Face hub id ('org/name'), which the card may link to; a local path is not one. */
function hubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(s);
}

export function renderModelCard(c: ModelCardInfo): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const yaml = [
    '---',
    `base_model: ${JSON.stringify(c.baseModel)}`,
    'library_name: sentence-transformers',
    'pipeline_tag: sentence-similarity',
    ...(c.license ? [`license: ${JSON.stringify(c.license)}`] : []),
    'tags:',
    '  - sentence-transformers',
    '  - sentence-similarity',
    '  - embedsmith',
    '---',
  ];
  const lines = [...yaml, '', `# ${c.title ?? `${c.baseModel} fine-tuned with Embedsmith`}`, ''];
  const base = hubId(c.baseModel) ? `[\`${c.baseModel}\`](https://huggingface.co/${c.baseModel})` : `\`${c.baseModel}\``;
  lines.push(`A text-embedding model fine-tuned from ${base} on ${esc(c.data.name)}.`, '');
  lines.push('## Data', '', `- dataset: ${esc(c.data.name)}`, `- rows: ${c.data.rows}`);
  if (c.data.format) lines.push(`- format: ${c.data.format}`);
  if (c.data.negativesPerRow !== undefined) lines.push(`- hard negatives per row: ${c.data.negativesPerRow}`);
  if (c.data.description) lines.push('', esc(c.data.description));
  if (c.template) {
    const shown = (t: string) => (t === '' ? '(none)' : `\`${JSON.stringify(t)}\``);
    lines.push('', '## Template', '', `- queries: ${shown(c.template.query)}`, `- documents: ${shown(c.template.document)}`);
  }
  if (c.loss) lines.push('', '## Loss', '', esc(c.loss));
  lines.push('', '## Training settings', '', '| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(c.settings)) lines.push(`| ${esc(k)} | ${esc(String(v))} |`);
  lines.push(`| seed | ${c.seed} |`);
  if (c.metrics && Object.keys(c.metrics).length > 0) {
    lines.push('', '## Evaluation', '');
    if (c.metricsNote) lines.push(esc(c.metricsNote), '');
    lines.push('| metric | before | after | change |', '|---|---|---|---|');
    for (const [k, m] of Object.entries(c.metrics)) {
      const d = m.after - m.before;
      lines.push(`| ${esc(k)} | ${m.before.toFixed(4)} | ${m.after.toFixed(4)} | ${d >= 0 ? '+' : ''}${d.toFixed(4)} |`);
    }
  }
  lines.push('', '## Model', '');
  if (c.pooling) lines.push(`- pooling: ${c.pooling}`);
  if (c.normalize !== undefined) lines.push(`- normalised embeddings: ${c.normalize ? 'yes' : 'no'}`);
  if (c.maxSeqLength) lines.push(`- max sequence length: ${c.maxSeqLength}`);
  for (const [name, p] of Object.entries(c.prompts ?? {})) lines.push(`- prompt \`${name}\`: \`${JSON.stringify(p)}\``);
  lines.push('', '## Usage', '', '```python', 'from sentence_transformers import SentenceTransformer', '', 'model = SentenceTransformer("path/to/this/folder")', 'embeddings = model.encode(["first text", "second text"])', '```', '');
  if (c.command) lines.push('## Reproduce', '', '```sh', c.command, '```', '');
  lines.push('## Software', '', ...Object.entries(c.versions).map(([k, v]) => `- ${k} ${v}`), '');
  if (c.licenses?.length) lines.push('## Licences', '', ...c.licenses.map((l) => `- ${l}`), '');
  return lines.join('\n');
}
