// Which column plays which role, decided from the header names (the names used by
// sentence-transformers datasets and common exports), overridable per role with
// `--map role=column`. An undecidable header is an error that lists the columns and the fix.
import { EngineError } from '../../../shared/errors.js';
import { FORMATS, REQUIRED_ROLES, ROLES, type ColumnMapping, type DatasetFormat, type Role } from './types.js';

const norm = (s: string) => s.trim().toLowerCase().replace(/[\s-]+/g, '_');

// In order of preference: the first name present wins.
const SYNONYMS: Record<Exclude<Role, 'negative'>, string[]> = {
  anchor: ['anchor', 'query', 'question', 'text1', 'text_1', 'sentence1', 'sentence_1', 'sentence_a', 'premise', 'q', 'prompt', 'title'],
  positive: ['positive', 'pos', 'answer', 'passage', 'document', 'text2', 'text_2', 'sentence2', 'sentence_2', 'sentence_b', 'hypothesis', 'response', 'reply', 'context', 'a'],
  text: ['text', 'sentence', 'content', 'body', 'message', 'utterance'],
  label: ['label', 'labels', 'class', 'category', 'intent', 'target'],
  score: ['score', 'similarity', 'similarity_score', 'relevance', 'rating'],
};
const NEGATIVE = /^(neg|negative|hard_negative|negatives)(_?\d+)?$/;

/** Parses `anchor=q,positive=a,negative=n1,negative=n2` (also negative_2=…). */
export function parseMapSpec(spec: string | string[]): Map<Role, string[]> {
  const out = new Map<Role, string[]>();
  for (const part of ([] as string[]).concat(spec).flatMap((s) => s.split(','))) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const roleRaw = eq > 0 ? norm(part.slice(0, eq)) : '';
    const column = eq > 0 ? part.slice(eq + 1).trim() : '';
    const role = (/^negative_\d+$/.test(roleRaw) ? 'negative' : roleRaw) as Role;
    if (!ROLES.includes(role) || column === '') {
      throw new EngineError('BAD_INPUT', `--map '${part}' is not role=column; roles are ${ROLES.join(', ')} (e.g. --map anchor=question,positive=reply).`, { setting: 'map' });
    }
    out.set(role, [...(out.get(role) ?? []), column]);
  }
  return out;
}

export function detectMapping(file: string, columns: string[], format: 'auto' | DatasetFormat = 'auto', overrides = new Map<Role, string[]>()): ColumnMapping {
  if (format !== 'auto' && !FORMATS.includes(format)) {
    throw new EngineError('BAD_INPUT', `--format '${format}' is not one of auto, ${FORMATS.join(', ')}.`, { setting: 'format' });
  }
  if (format === 'retrieval') {
    throw new EngineError(
      'BAD_INPUT',
      `${file}: a retrieval set is three files (queries, corpus, relevance judgements), not one. Fix: import it with --queries Q --corpus C --qrels R, or pick another --format.`,
      { file, setting: 'format' },
    );
  }
  const byName = new Map(columns.map((c) => [norm(c), c]));
  for (const [role, cols] of overrides) {
    for (const c of cols) {
      if (!columns.includes(c)) {
        throw new EngineError('BAD_INPUT', `--map ${role}=${c}: column '${c}' not found in ${file}; columns are: ${columns.join(', ')}. Fix: map the ${role} role to one of them.`, { file, setting: 'map', column: c, columns });
      }
    }
  }
  const found: Partial<Record<Role, string[]>> = {};
  for (const role of ROLES) {
    const given = overrides.get(role);
    if (given) found[role] = given;
    else if (role === 'negative') {
      const negs = columns.filter((c) => NEGATIVE.test(norm(c)));
      if (negs.length) found.negative = negs;
    } else {
      const hit = SYNONYMS[role].find((s) => byName.has(s));
      if (hit) found[role] = [byName.get(hit)!];
    }
  }
  const chosen = format !== 'auto' ? format : guessFormat(found);
  if (!chosen) {
    throw new EngineError(
      'BAD_INPUT',
      `cannot tell the format of ${file} from its columns (${columns.join(', ')}). ` +
        `Fix: name the roles, e.g. --map anchor=${columns[0] ?? 'COL'},positive=${columns[1] ?? 'COL'} (pairs) or --map text=COL,label=COL (labeled).`,
      { file, columns },
    );
  }
  const need = REQUIRED_ROLES[chosen];
  const missing = need.filter((r) => !found[r]);
  if (missing.length) {
    const r = missing[0];
    throw new EngineError(
      'BAD_INPUT',
      `${file} has no column for the ${r} role of the ${chosen} format; columns are: ${columns.join(', ')}. ` +
        `Fix: map it with --map ${r}=COLUMN${format === 'auto' ? '' : `, or pick another --format`}.`,
      { file, role: r, columns },
    );
  }
  const roles: ColumnMapping['roles'] = {};
  for (const r of need) {
    if (r === 'negative') roles.negative = found.negative;
    else roles[r] = found[r]![0];
  }
  // A label next to pairs (e.g. an NLI class) is kept when mapped or auto-found: splits stratify on it.
  if (chosen !== 'labeled' && found.label && !Object.values(roles).flat().includes(found.label[0])) roles.label = found.label[0];
  const used = new Set(Object.values(roles).flat());
  return { format: chosen, roles, ignored: columns.filter((c) => !used.has(c)) };
}

function guessFormat(found: Partial<Record<Role, string[]>>): DatasetFormat | undefined {
  if (found.anchor && found.positive) return found.negative ? 'triplets' : found.score ? 'scored' : 'pairs';
  if (found.text && found.label) return 'labeled';
  return undefined;
}
