// Token counts against a model's limit (issue 5: "texts longer than the model's max length
// (token counts when a model is chosen)"). Every text is counted as the model would see it —
// its role's instruction template applied, special tokens included — and each one over the
// limit becomes a TOO_MANY_TOKENS warning in report.json (training and embedding cut it
// there). Re-running replaces the previous check's findings instead of adding to them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { parseModelConfig } from '../model/config.js';
import { loadModelTokenizer, noConfigError, type LoadedModel } from '../model/load.js';
import { readSentenceConfig } from '../model/sentence-config.js';
import { readJsonIfExists } from '../tokenize/tokenizer-files.js';
import type { Tokenizer } from '../tokenize/tokenizer.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { parseJsonFile } from '../workspace/json-file.js';
import { IssueLog } from './issue-log.js';
import { documentText, readRetrievalPart } from './retrieval.js';
import { readDatasetMeta, readRowsWithEdits, withDatasetLock } from './store.js';
import { applyRoleTemplate, type InstructionTemplate, type TemplateRole } from './templates.js';
import type { DatasetMeta, ImportIssue, ImportReport, RetrievalPart } from './types.js';

export const TOO_MANY_TOKENS = 'TOO_MANY_TOKENS';
const SUMMARY = 'TOKEN_LENGTHS';

export interface LengthCheck {
  tokenizer: Tokenizer;
  /** Longest input in tokens, special tokens included; default: the tokenizer's maxLength. */
  maxLength?: number;
  /** Applied per role before counting: a prefix costs tokens too. */
  template?: InstructionTemplate;
}

export interface TokenLengthIssue extends ImportIssue {
  /** The dataset role of the text: anchor, positive, negative, text; query or document in a retrieval set. */
  role: string;
  tokens: number;
  maxLength: number;
  /** Stable row index (store.ts), for rows; retrieval sets name the file and line instead. */
  index?: number;
}

export interface LengthCheckResult {
  /** Texts counted. */
  checked: number;
  tooLong: number;
  /** The most tokens any text has. */
  longest: number;
  issues: TokenLengthIssue[];
  /** report.json and dataset.json as written back. */
  report: ImportReport;
  meta: DatasetMeta;
}

export function checkTokenLengths(dir: string, tokenizer: Tokenizer, maxLength = tokenizer.maxLength, template?: InstructionTemplate): Promise<LengthCheckResult> {
  // report.json and dataset.json are read, changed and written back: one writer at a time.
  return withDatasetLock(dir, () => checkLocked(dir, tokenizer, maxLength, template));
}

async function checkLocked(dir: string, tokenizer: Tokenizer, maxLength: number, template: InstructionTemplate | undefined): Promise<LengthCheckResult> {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new EngineError('BAD_INPUT', `max length must be an integer ≥ 2, got ${maxLength}.`, { setting: 'maxLength' });
  const meta = await readDatasetMeta(dir);
  const issues: TokenLengthIssue[] = [];
  let checked = 0;
  let longest = 0;
  const count = (templateRole: TemplateRole, role: string, text: string, where: { line: number; index?: number; file?: RetrievalPart }, what: string) => {
    const tokens = tokenizer.countTokens(template ? applyRoleTemplate(template, templateRole, text) : text);
    checked++;
    longest = Math.max(longest, tokens);
    if (tokens <= maxLength) return;
    const place = where.file ? `${where.file} line ${where.line}` : where.line > 0 ? `line ${where.line}` : `row ${where.index} (added by an edit)`;
    issues.push({
      ...where,
      line: where.line > 0 ? where.line : null,
      code: TOO_MANY_TOKENS,
      severity: 'warning',
      role,
      tokens,
      maxLength,
      message: `${place}: the ${what} has ${tokens} tokens${template ? ' with its template' : ''}, over the model's ${maxLength}; the model sees only the first ${maxLength}. Fix: shorten or split it, or accept the cut.`,
    });
  };
  if (meta.format === 'retrieval') {
    for await (const q of readRetrievalPart(dir, 'queries')) count('query', 'query', q.text, { line: q.line, file: 'queries' }, `query '${q.id}'`);
    for await (const d of readRetrievalPart(dir, 'corpus')) count('document', 'document', documentText(d), { line: d.line, file: 'corpus' }, `document '${d.id}'`);
  } else {
    for await (const { index, row } of readRowsWithEdits(dir, { onWarning: () => {} })) {
      const where = { line: row.line, index };
      if (row.anchor !== undefined) count('query', 'anchor', row.anchor, where, 'anchor');
      if (row.positive !== undefined) count('document', 'positive', row.positive, where, 'positive');
      row.negatives?.forEach((n, k) => count('document', 'negative', n, where, `negative ${k + 1}`));
      if (row.text !== undefined) count('text', 'text', row.text, where, 'text');
    }
  }
  const summary: ImportIssue = {
    line: null,
    code: SUMMARY,
    severity: 'info',
    message: `token counts (max length ${maxLength}${template ? ', templates applied' : ''}): ${checked} texts, the longest ${longest} tokens, ${issues.length} over the limit`,
  };
  const { report, meta: updated } = await mergeIntoReport(dir, meta, issues, summary);
  return { checked, tooLong: issues.length, longest, issues, report, meta: updated };
}

async function mergeIntoReport(dir: string, meta: DatasetMeta, issues: TokenLengthIssue[], summary: ImportIssue): Promise<{ report: ImportReport; meta: DatasetMeta }> {
  const path = join(dir, 'report.json');
  const old = parseJsonFile(path, await readFile(path, 'utf8')) as ImportReport;
  const before = old.counts[TOO_MANY_TOKENS] ?? 0;
  const log = new IssueLog(old.issues.filter((i) => i.code !== TOO_MANY_TOKENS && i.code !== SUMMARY));
  Object.assign(log.counts, old.counts);
  delete log.counts[TOO_MANY_TOKENS];
  for (const t of old.truncated) if (t !== TOO_MANY_TOKENS) log.truncated.add(t);
  log.listed.push(summary);
  log.take(issues.slice()); // take() empties what it is given; the caller keeps its list
  const report = log.report();
  const updated = { ...meta, counts: { ...meta.counts, warnings: meta.counts.warnings - before + issues.length } };
  await writeJsonAtomic(path, report);
  await writeJsonAtomic(join(dir, 'dataset.json'), updated);
  return { report, meta: updated };
}

/**
 * The tokenizer a model folder embeds with — its max_seq_length and lowercasing applied —
 * without reading its weights: loadModelTokenizer uses only the folder's config.json, the
 * sentence-transformers files and the tokenizer files, and counting tokens needs nothing more.
 */
export async function modelTokenizer(modelDir: string, maxLength?: number): Promise<Tokenizer> {
  const sentence = await readSentenceConfig(modelDir, -1);
  const hfDir = sentence.transformerPath ? join(modelDir, sentence.transformerPath) : modelDir;
  const configFile = join(hfDir, 'config.json');
  const raw = await readJsonIfExists(configFile);
  if (raw === undefined) throw await noConfigError(modelDir, 'config.json + tokenizer files');
  const model: Pick<LoadedModel, 'hfDir' | 'config' | 'sentence'> = { hfDir, config: parseModelConfig(raw, configFile), sentence };
  return loadModelTokenizer(model as LoadedModel, maxLength);
}
