// What one row of a settings table says (transformers' TrainingArguments: each setting carries
// its default, help and checks in one place) and the rules every row follows: how a value is
// checked, how a command-line word becomes a value, and how the usage and help lines read.
// The rows themselves are in train-settings.ts; the CLI, the engine, the jobs contract and the
// Training page all read them, so a setting is declared once (issue 16).
import { rangeProblem, rangeText, type RangeContext, type SettingRange } from './setting-ranges.js';

/**
 * int / number: one number (range below); boolean: a switch; choice: one of `choices`; text: a
 * free string; path: a folder; numbers / names: comma-separated lists; template: an object the
 * command line builds from a template name (it has its own parser).
 */
export type SettingKind = 'int' | 'number' | 'boolean' | 'choice' | 'text' | 'path' | 'numbers' | 'names' | 'template';

/**
 * What changing the setting does to `--resume`: 'match' refuses a resume when the value differs
 * from the run's config.json (it decides a step's numbers); 'repeat' is taken from config.json
 * by the app's Resume button but may change (where it evaluates, how often it saves).
 */
export type ResumeRule = 'match' | 'repeat';

/** Where the Training page shows a setting. `advanced` ones sit in a folded section. */
export interface SettingUi {
  label: string;
  group: string;
  advanced: boolean;
  /** The line under the field; the row's doc when absent. */
  hint?: string;
  /** What an empty field shows. */
  placeholder?: string;
  /** Choices as people name them ('auto' → 'Automatic'). */
  choiceLabels?: Record<string, string>;
}

export interface SettingRow<V = unknown> {
  /** The settings object's (and RUN_DIR/config.json's) key. */
  key: string;
  /** The command-line flag without '--'. A switch that is on by default is turned off with --no-FLAG. */
  flag: string;
  kind: SettingKind;
  /** null is a value: "unset" (off, as the data has, as the model's config says). The flag left out gives it. */
  nullable?: boolean;
  /** Command-line words that mean null (--dropout FROM_CONFIG). */
  nullWords?: readonly string[];
  /** Numbers: the value's range; lists: each element's. */
  range?: Omit<SettingRange, 'flag'>;
  choices?: readonly string[];
  /** A rule the kind and range cannot say (a list without repeats): the problem after '--flag: ', or null. */
  check?: (value: V) => string | null;
  /** Absent: `defaultFrom` says where the value comes from. */
  default?: V;
  /** required: no default; model: follows the base model (its width, its max_seq_length) unless given; machine: this computer's. */
  defaultFrom?: 'required' | 'model' | 'machine';
  /** The value's placeholder in the usage line (N, DATASET_DIR); the default is shown when absent. */
  arg?: string;
  /** The command-line help line. */
  help: string;
  /** One line for people reading the table: what the setting is and why it is there. */
  doc: string;
  resume: ResumeRule;
  /** false: not a request setting (the request's own model / dataset fields, or the engine's machine). */
  request?: false;
  /** Absent: the Training page does not show it (a resume still repeats it). */
  ui?: SettingUi;
  /** A value for messages and placeholders ("e.g. 2e-5") where the default is not one. */
  example?: string;
}

/** The flag as typed: switches on by default are turned off with --no-FLAG. */
export function cliFlag(row: SettingRow): string {
  return row.kind === 'boolean' && row.default === true ? `no-${row.flag}` : row.flag;
}

function rangeOf(row: SettingRow): SettingRange | null {
  return row.range ? { flag: row.flag, ...row.range } : null;
}

const isNum = (v: unknown): v is number => typeof v === 'number';

/**
 * Why `value` is not a valid value of `row` (a sentence naming --flag, the value and the fix),
 * or null. Checks the kind, null, the choices, the range (finite, whole, bounds) and the row's
 * own rule. Rules between settings are the engine's (train/settings.ts).
 */
export function settingProblem(row: SettingRow, value: unknown, ctx: RangeContext): string | null {
  const f = `--${row.flag}`;
  if (value === null || value === undefined) {
    if (value === null && row.nullable) return null;
    return `${f} is missing: it needs ${describeKind(row, ctx)}.`;
  }
  const range = rangeOf(row);
  switch (row.kind) {
    case 'int':
    case 'number': {
      if (!isNum(value)) return `${f}: ${JSON.stringify(value)} is not a number; give ${describeKind(row, ctx)}.`;
      if (!range && !Number.isFinite(value)) return `${f} ${value} is not a finite number.`;
      const problem = range ? rangeProblem(value, range, ctx) : null;
      if (problem) return `${problem} Fix: give ${f} a value in that range.`;
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') return `${f}: ${JSON.stringify(value)} is not true or false.`;
      break;
    case 'choice':
      if (!row.choices!.includes(value as string)) return `${f}: '${String(value)}' is not one of its choices; use ${row.choices!.join(', ')}.`;
      break;
    case 'text':
    case 'path':
      // Whether the folder is there is the loader's to say (with what it expected); here only that one is named.
      if (typeof value !== 'string' || value === '') return `${f}: ${JSON.stringify(value)} is not ${row.kind === 'path' ? 'a folder' : 'a word'}; give ${describeKind(row, ctx)}.`;
      break;
    case 'numbers':
    case 'names':
      if (!Array.isArray(value) || value.length === 0) return `${f}: give one or more values separated by commas, e.g. ${row.example ?? '1,2'}.`;
      if (row.kind === 'names' && value.some((v) => typeof v !== 'string')) return `${f}: ${JSON.stringify(value)} must be names.`;
      if (row.kind === 'numbers') {
        for (const v of value) {
          const problem = !isNum(v) ? `${JSON.stringify(v)} is not a number` : range ? rangeProblem(v, range, ctx) : null;
          if (problem) return `${problem.startsWith(f) ? problem : `${f}: ${problem}`} Fix: give each value in that range.`;
        }
      }
      break;
    case 'template': {
      const t = value as Record<string, unknown>;
      if (typeof t !== 'object' || typeof t.query !== 'string' || typeof t.document !== 'string') return `${f}: ${JSON.stringify(value)} is not a template ({ query, document } prefixes).`;
      break;
    }
  }
  const own = row.check?.(value);
  return own ? `${f}: ${own}` : null;
}

/** What a value of `row` is, for messages and help: 'a whole number in [1, 65536]', 'linear or constant'. */
export function describeKind(row: SettingRow, ctx: RangeContext): string {
  const range = rangeOf(row);
  switch (row.kind) {
    case 'int':
      return `a whole number${range ? ` in ${rangeText(range, ctx)}` : ''}`;
    case 'number':
      return `a number${range ? ` in ${rangeText(range, ctx)}` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return row.choices!.join(', ');
    case 'numbers':
      return `numbers separated by commas${range ? `, each in ${rangeText(range, ctx)}` : ''}`;
    case 'names':
      return 'names separated by commas';
    case 'path':
      return 'a folder';
    default:
      return 'a value';
  }
}

/** The range in words, for people: 'at least 3 and at most 32768', 'above 0 and at most 1'. */
export function rangeWords(row: SettingRow, ctx: RangeContext): string {
  const r = row.range;
  if (!r) return '';
  const max = typeof r.max === 'function' ? r.max(ctx) : r.max;
  return `${r.minExclusive ? 'above' : 'at least'} ${r.min}${max === Infinity ? '' : ` and at most ${max}`}`;
}

/**
 * A command-line word as `row`'s value: a number, a list, null for a null word; choices and
 * ranges are checked later with everything else (settingProblem). `{ problem }` when the word
 * cannot be read at all — a usage mistake.
 */
export function parseSettingWord(row: SettingRow, word: string, ctx: RangeContext): { value: unknown } | { problem: string } {
  if (row.nullWords?.includes(word)) return { value: null };
  const num = (w: string): number | null => (w.trim() === '' || Number.isNaN(Number(w)) ? null : Number(w));
  switch (row.kind) {
    case 'int':
    case 'number': {
      const n = num(word);
      const range = rangeOf(row);
      return n === null ? { problem: `--${row.flag} must be a number${range ? ` in ${rangeText(range, ctx)}` : ''}, got '${word}'` } : { value: n };
    }
    case 'numbers': {
      const parts = word.split(',').map((w) => w.trim());
      const bad = parts.find((w) => num(w) === null);
      return bad !== undefined ? { problem: `--${row.flag} must be numbers separated by commas, got '${word}'` } : { value: parts.map(Number) };
    }
    case 'names':
      return { value: word.split(',').map((w) => w.trim()) };
    case 'choice':
      return row.choices!.includes(word) ? { value: word } : { problem: `--${row.flag} must be ${row.choices!.join(', ')}, got '${word}'` };
    default:
      return { value: word };
  }
}

/** The value as the command line writes it (the model card's reproduce command). */
export function settingWord(row: SettingRow, value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** `[--flag ARG]` for the usage line; required settings without brackets. */
export function usageToken(row: SettingRow): string {
  const flag = `--${cliFlag(row)}`;
  const arg = row.kind === 'boolean' ? '' : ` ${row.kind === 'choice' ? row.choices!.join('|') : (row.arg ?? settingWord(row, row.default))}`;
  return row.defaultFrom === 'required' ? `${flag}${arg}` : `[${flag}${arg}]`;
}

/** The placeholder a help line shows for the value. */
function placeholder(row: SettingRow): string {
  if (row.kind === 'boolean') return '';
  if (row.kind === 'choice') return ` ${row.choices!.join('|')}`;
  return ` ${row.arg ?? (row.kind === 'int' ? 'N' : row.kind === 'number' ? 'X' : 'NAME')}`;
}

/** One help line: the flag, its argument, the row's help and the default (a model-dependent one is the help's to say). */
export function helpLine(row: SettingRow): string {
  const dflt =
    row.defaultFrom === 'required' ? 'required'
    : row.defaultFrom === 'machine' ? "default: this computer's"
    : row.defaultFrom === 'model' || row.kind === 'boolean' || row.default === null ? ''
    : `default: ${settingWord(row, row.default)}`;
  return `--${cliFlag(row)}${placeholder(row)}  ${row.help}${dflt ? ` (${dflt})` : ''}`;
}

/** Required rows first (the usage line and help read as the command is typed), the rest in table order. */
export function requiredFirst(rows: readonly SettingRow[]): SettingRow[] {
  return [...rows.filter((r) => r.defaultFrom === 'required'), ...rows.filter((r) => r.defaultFrom !== 'required')];
}
