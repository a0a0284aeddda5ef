// The argument shapes of every EngineApi method, as data, so each adapter (the worker host,
// Electron IPC, the web bridge) refuses a malformed call with BAD_INPUT naming the method and
// the argument instead of failing deep inside the engine ("Cannot read properties of
// undefined") or as "unknown engine method". TypeScript checks the renderer's calls; these
// checks are for everything else that can reach a socket.
//
// Kept in step with api.ts by the compiler: ARG_SHAPES must list every method, with exactly
// as many arguments as it takes, and each request object lists exactly its type's keys
// (`fields<T>()`), so a field added to a request type without its shape here fails typecheck.
// Values inside `settings`, a row or its fields are checked by the engine, which owns their
// rules (settings table, row validation); here they only have to be objects.
import type { EngineApi, EngineMethod } from './api.js';
import type { ErrorData } from './errors.js';
import { ENCODING_CHOICES, ROW_FORMATS } from './dataset-formats.js';
import { DEVICE_CHOICES, type DeviceChoice, type EvaluateRequest, type ExportRequest, type ImportRequest, type MergeCurveRequest, type MergeRequest, type MineRequest, type TrainPlanRequest, type TrainRequest, type UmapRequest } from './jobs.js';
import type { InstructionTemplate } from './templates.js';
import type { DatasetRowsQuery, ImportPreviewRequest, TemplatePreviewRequest } from './views.js';

export type Shape =
  | { kind: 'string' | 'number' | 'integer' | 'boolean' | 'object' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'array'; of: Shape }
  | { kind: 'fields'; fields: Record<string, Shape>; optional: readonly string[] }
  | { kind: 'union'; tag: string; cases: Record<string, Shape> }
  | { kind: 'nullable'; of: Shape };

const str: Shape = { kind: 'string' };
const num: Shape = { kind: 'number' };
const int: Shape = { kind: 'integer' };
const bool: Shape = { kind: 'boolean' };
/** Any plain object; its contents are the engine's to check. */
const record: Shape = { kind: 'object' };
const arrayOf = (of: Shape): Shape => ({ kind: 'array', of });

/** A string union as a list that must name every member (a missing one is a type error). */
function oneOf<T extends string>() {
  return <const A extends readonly T[]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : never)): Shape => ({ kind: 'enum', values });
}

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
/** A closed object of type T: every key of T, no other; optional ones may be absent. */
function fields<T>() {
  return (spec: { [K in keyof T]-?: Shape }, optional: readonly OptionalKeys<T>[] = []): Shape => ({ kind: 'fields', fields: spec, optional: optional as readonly string[] });
}

const device = oneOf<DeviceChoice>()(DEVICE_CHOICES);
const importFormat = oneOf<NonNullable<ImportRequest['format']>>()(['auto', ...ROW_FORMATS]);
const encoding = oneOf<NonNullable<ImportRequest['encoding']>>()(ENCODING_CHOICES);
const template = fields<InstructionTemplate>()({ query: str, document: str, text: str });

type Arg = readonly [name: string, shape: Shape, optional?: 'optional'];
/** One [name, shape] per parameter of each method, in order. */
type ArgsOf<P extends readonly unknown[]> = { readonly [I in keyof P]-?: Arg };
type ArgTable = { [M in EngineMethod]: ArgsOf<Parameters<EngineApi[M]>> };

export const ARG_SHAPES = {
  getEngineInfo: [],
  createProject: [['dir', str], ['name', str]],
  openProject: [['dir', str]],
  currentProject: [],
  renameProject: [['name', str]],
  closeProject: [],
  listRecentProjects: [],
  forgetRecentProject: [['dir', str]],
  chooseFolder: [['options', fields<Parameters<EngineApi['chooseFolder']>[0]>()({ title: str, mode: oneOf<'open' | 'create'>()(['open', 'create']), defaultPath: str }, ['defaultPath'])]],
  pullModel: [['repo', str]],
  mineNegatives: [
    [
      'request',
      fields<MineRequest>()(
        {
          model: str,
          dataset: str,
          out: str,
          device,
          options: fields<NonNullable<MineRequest['options']>>()(
            { negatives: num, rankMin: num, rankMax: num, margin: num, relativeMargin: num, maxScore: num, sampling: oneOf<'top' | 'random'>()(['top', 'random']), seed: num },
            ['negatives', 'rankMin', 'rankMax', 'margin', 'relativeMargin', 'maxScore', 'sampling', 'seed'],
          ),
        },
        ['device', 'options'],
      ),
    ],
  ],
  importDataset: [['request', fields<ImportRequest>()({ file: str, out: str, format: importFormat, map: str, delimiter: str, encoding }, ['format', 'map', 'delimiter', 'encoding'])]],
  previewImport: [
    ['request', fields<ImportPreviewRequest>()({ file: str, format: importFormat, map: str, delimiter: str, encoding, limit: num }, ['format', 'map', 'delimiter', 'encoding', 'limit'])],
  ],
  editDataset: [
    ['dir', str],
    [
      'edit',
      {
        kind: 'union',
        tag: 'op',
        cases: {
          add: { kind: 'fields', fields: { op: str, row: record }, optional: [] },
          change: { kind: 'fields', fields: { op: str, index: int, fields: record }, optional: [] },
          delete: { kind: 'fields', fields: { op: str, index: int }, optional: [] },
          relabel: { kind: 'fields', fields: { op: str, index: int, label: str }, optional: [] },
        },
      },
    ],
  ],
  undoDatasetEdit: [['dir', str]],
  redoDatasetEdit: [['dir', str]],
  evaluateModel: [['request', fields<EvaluateRequest>()({ model: str, dataset: str, split: oneOf<'eval' | 'all'>()(['eval', 'all']), k: num, device, dims: int }, ['split', 'k', 'device', 'dims'])]],
  planTraining: [
    [
      'request',
      fields<TrainPlanRequest>()(
        { dataset: str, batchSize: num, epochs: num, maxSteps: { kind: 'nullable', of: num }, seed: num, shuffle: bool, negatives: { kind: 'nullable', of: num }, evalEvery: { kind: 'nullable', of: num }, loss: str },
        ['maxSteps', 'seed', 'shuffle', 'negatives', 'evalEvery', 'loss'],
      ),
    ],
  ],
  trainModel: [['request', fields<TrainRequest>()({ model: str, dataset: str, out: str, resume: bool, generalEval: bool, settings: record }, ['resume', 'generalEval', 'settings'])]],
  projectEmbeddings: [['request', fields<UmapRequest>()({ model: str, dataset: str, out: str, seed: num, device }, ['seed', 'device'])]],
  exportModel: [['request', fields<ExportRequest>()({ model: str, out: str, formats: arrayOf(oneOf<ExportRequest['formats'][number]>()(['sentence-transformers', 'onnx', 'fp16'])) })]],
  mergeCurve: [['request', fields<MergeCurveRequest>()({ base: str, tuned: str, dataset: str, points: int, device }, ['points', 'device'])]],
  mergeModel: [['request', fields<MergeRequest>()({ base: str, tuned: str, alpha: num, out: str })]],
  runDemo: [['request', fields<Parameters<EngineApi['runDemo']>[0]>()({ workspace: str, device }, ['workspace', 'device'])]],
  listDatasets: [],
  describeDataset: [['dir', str]],
  readDatasetRows: [['dir', str], ['query', fields<DatasetRowsQuery>()({ offset: int, limit: int, search: str, label: str }, ['search', 'label'])]],
  splitDataset: [['dir', str], ['options', fields<{ evalFraction: number; seed: number }>()({ evalFraction: num, seed: num })]],
  describeModel: [['dir', str]],
  listCachedModels: [],
  previewTemplate: [['request', fields<TemplatePreviewRequest>()({ template: str, texts: arrayOf(str), model: str, maxLength: num }, ['model', 'maxLength'])]],
  listTemplates: [['projectDir', str]],
  saveTemplate: [['projectDir', str], ['name', str], ['template', template], ['options', fields<{ active?: boolean }>()({ active: bool }, ['active']), 'optional']],
  deleteTemplate: [['projectDir', str], ['name', str]],
  listRuns: [],
  readRun: [['dir', str]],
  readProjection: [['file', str]],
  listJobs: [],
  cancel: [['jobId', str]],
} as const satisfies ArgTable;

/** Null when the arguments fit the method's parameters; otherwise a BAD_INPUT naming the argument. */
export function checkCallArgs(method: EngineMethod, args: unknown): ErrorData | null {
  const params = ARG_SHAPES[method] as readonly Arg[];
  const signature = `${method}(${params.map(([n, s, opt]) => `${n}${opt ? '?' : ''}: ${describe(s)}`).join(', ')})`;
  const bad = (what: string, path?: string): ErrorData => ({
    code: 'BAD_INPUT',
    message: `${method}: ${what}. Fix: call it as the EngineApi contract declares: ${signature}`,
    details: { method, ...(path === undefined ? {} : { argument: path }) },
  });
  if (!Array.isArray(args)) return bad(`its arguments must be a list (a JSON array), got ${kindOf(args)}`);
  const required = params.filter((p) => !p[2]).length;
  if (args.length < required || args.length > params.length) {
    const want = required === params.length ? `${required}` : `${required} to ${params.length}`;
    return bad(`takes ${want} argument(s), got ${args.length}`);
  }
  for (let i = 0; i < args.length; i++) {
    const [name, shape, opt] = params[i];
    if (opt && args[i] === undefined) continue;
    const problem = check(shape, args[i], name);
    if (problem) return bad(`argument ${i + 1} (${problem.path}) ${problem.why}`, problem.path);
  }
  return null;
}

function check(shape: Shape, v: unknown, path: string): { path: string; why: string } | null {
  const expect = (ok: boolean) => (ok ? null : { path, why: `must be ${describe(shape)}, got ${kindOf(v)}` });
  switch (shape.kind) {
    case 'string':
      return expect(typeof v === 'string');
    case 'number':
      return expect(typeof v === 'number' && Number.isFinite(v));
    case 'integer':
      return expect(Number.isSafeInteger(v));
    case 'boolean':
      return expect(typeof v === 'boolean');
    case 'object':
      return expect(isPlainObject(v));
    case 'enum':
      return expect(typeof v === 'string' && shape.values.includes(v));
    case 'nullable':
      return v === null ? null : check(shape.of, v, path);
    case 'array': {
      if (!Array.isArray(v)) return expect(false);
      for (let i = 0; i < v.length; i++) {
        const p = check(shape.of, v[i], `${path}[${i}]`);
        if (p) return p;
      }
      return null;
    }
    case 'fields': {
      if (!isPlainObject(v)) return expect(false);
      for (const key of Object.keys(v)) {
        // Electron's structured clone keeps `key: undefined` (JSON drops it): it carries nothing.
        if (!Object.hasOwn(shape.fields, key) && v[key] !== undefined) return { path: `${path}.${key}`, why: `is not a field of ${path}; its fields are ${Object.keys(shape.fields).join(', ')}` };
      }
      for (const [key, s] of Object.entries(shape.fields)) {
        const value = v[key];
        if (value === undefined) {
          if (shape.optional.includes(key)) continue;
          return { path: `${path}.${key}`, why: `is missing (${describe(s)})` };
        }
        const p = check(s, value, `${path}.${key}`);
        if (p) return p;
      }
      return null;
    }
    case 'union': {
      if (!isPlainObject(v)) return expect(false);
      const tag = v[shape.tag];
      const c = typeof tag === 'string' && Object.hasOwn(shape.cases, tag) ? shape.cases[tag] : undefined;
      if (!c) return { path: `${path}.${shape.tag}`, why: `must be one of ${Object.keys(shape.cases).map((t) => `'${t}'`).join(', ')}, got ${kindOf(tag)}` };
      return check(c, v, path);
    }
  }
}

function describe(s: Shape): string {
  switch (s.kind) {
    case 'enum':
      return s.values.map((x) => `'${x}'`).join(' | ');
    case 'array':
      return `${describe(s.of)}[]`;
    case 'nullable':
      return `${describe(s.of)} | null`;
    case 'fields':
      return `{${Object.entries(s.fields).map(([k, f]) => `${k}${s.optional.includes(k) ? '?' : ''}: ${f.kind === 'fields' ? 'object' : describe(f)}`).join(', ')}}`;
    case 'union':
      return `{${s.tag}: ${Object.keys(s.cases).map((t) => `'${t}'`).join(' | ')}, …}`;
    case 'integer':
      return 'an integer';
    case 'object':
      return 'an object';
    default:
      return `a ${s.kind}`;
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'nothing';
  return `an ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
