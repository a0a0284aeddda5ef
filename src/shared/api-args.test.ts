// The argument checks every adapter runs before a call reaches the engine.
import { describe, expect, it } from 'vitest';
import { checkCallArgs } from './api-args.js';
import { dispatchCall, ENGINE_METHODS, type EngineApi, type EngineMethod } from './api.js';

// One well-formed call per method, typed by the contract itself: a call the TypeScript
// renderer could make must pass.
const VALID: { [M in EngineMethod]: Parameters<EngineApi[M]> } = {
  getEngineInfo: [],
  createProject: ['/p', 'P'],
  openProject: ['/p'],
  currentProject: [],
  renameProject: ['Q'],
  closeProject: [],
  listRecentProjects: [],
  forgetRecentProject: ['/p'],
  chooseFolder: [{ title: 'Pick', mode: 'open' }],
  pullModel: ['BAAI/bge-small-en-v1.5'],
  mineNegatives: [{ model: '/m', dataset: '/d', out: '/o', device: 'cpu', options: { negatives: 3, sampling: 'top' } }],
  importDataset: [{ file: '/f.csv', out: '/d', format: 'pairs', map: 'anchor=q', encoding: 'utf8' }],
  previewImport: [{ file: '/f.csv', limit: 20 }],
  editDataset: ['/d', { op: 'change', index: 3, fields: { anchor: 'a' } }],
  undoDatasetEdit: ['/d'],
  redoDatasetEdit: ['/d'],
  evaluateModel: [{ model: '/m', dataset: '/d', split: 'eval', k: 10 }],
  mergeCurve: [{ base: '/b', tuned: '/t', dataset: '/d', points: 11 }],
  mergeModel: [{ base: '/b', tuned: '/t', alpha: 0.7, out: '/o' }],
  planTraining: [{ dataset: '/d', batchSize: 32, epochs: 1, maxSteps: null, evalEvery: 5 }],
  trainModel: [{ model: '/m', dataset: '/d', out: '/r', resume: true, settings: { epochs: 1, template: { query: 'q: ', document: '' } } }],
  projectEmbeddings: [{ model: '/m', dataset: '/d', out: '/u.json', seed: 1 }],
  exportModel: [{ model: '/m', out: '/e', formats: ['onnx', 'fp16'] }],
  runDemo: [{}],
  listDatasets: [],
  describeDataset: ['/d'],
  readDatasetRows: ['/d', { offset: 0, limit: 50, search: 'x' }],
  splitDataset: ['/d', { evalFraction: 0.1, seed: 42 }],
  describeModel: ['/m'],
  listCachedModels: [],
  previewTemplate: [{ template: 'query: {text}', texts: ['a', 'b'], model: '/m', maxLength: 128 }],
  listTemplates: ['/p'],
  saveTemplate: ['/p', 'e5', { query: 'query: ', document: 'passage: ', text: 'query: ' }, { active: true }],
  deleteTemplate: ['/p', 'e5'],
  listRuns: [],
  readRun: ['/r'],
  readProjection: ['/u.json'],
  listJobs: [],
  cancel: ['job-1'],
};

describe('checkCallArgs', () => {
  it.each(ENGINE_METHODS.map((m) => [m]))('accepts a well-formed %s call (as JSON carries it)', (method) => {
    expect(checkCallArgs(method, JSON.parse(JSON.stringify(VALID[method])))).toBeNull();
  });

  it('accepts an unknown key whose value is undefined (structured clone keeps those; JSON drops them)', () => {
    expect(checkCallArgs('readDatasetRows', ['/d', { offset: 0, limit: 5, search: undefined, stale: undefined }])).toBeNull();
  });

  it('accepts an optional trailing argument left out', () => {
    expect(checkCallArgs('saveTemplate', ['/p', 'e5', { query: '', document: '', text: '' }])).toBeNull();
  });

  const refused: Array<[EngineMethod, unknown, RegExp, string | undefined]> = [
    ['createProject', { dir: '/p', name: 'P' }, /createProject: its arguments must be a list \(a JSON array\), got an object/, undefined],
    ['openProject', '/p', /openProject: its arguments must be a list/, undefined],
    ['createProject', ['/p'], /createProject: takes 2 argument\(s\), got 1/, undefined],
    ['saveTemplate', ['/p'], /takes 3 to 4 argument\(s\), got 1/, undefined],
    ['createProject', ['/p', 7], /argument 2 \(name\) must be a string, got 7/, 'name'],
    ['trainModel', [{ model: '/m', dataset: '/d' }], /argument 1 \(request\.out\) is missing/, 'request.out'],
    ['trainModel', [{ model: '/m', dataset: '/d', out: '/r', epochs: 2 }], /request\.epochs\) is not a field of request; its fields are model, dataset, out, resume, generalEval, settings/, 'request.epochs'],
    ['trainModel', [{ model: '/m', dataset: '/d', out: '/r', settings: [] }], /request\.settings\) must be an object, got a list/, 'request.settings'],
    ['exportModel', [{ model: '/m', out: '/e', formats: ['onnx', 'tflite'] }], /request\.formats\[1\]\) must be 'sentence-transformers' \| 'onnx' \| 'fp16', got "tflite"/, 'request.formats[1]'],
    ['editDataset', ['/d', { op: 'explode', index: 1 }], /edit\.op\) must be one of 'add', 'change', 'delete', 'relabel', got "explode"/, 'edit.op'],
    ['editDataset', ['/d', { op: 'delete', index: 1.5 }], /edit\.index\) must be an integer, got 1\.5/, 'edit.index'],
    ['readDatasetRows', ['/d', { offset: 0, limit: 10, toString: 1 }], /query\.toString\) is not a field/, 'query.toString'],
    ['mineNegatives', [{ model: '/m', dataset: '/d', out: '/o', device: 'tpu' }], /request\.device\) must be 'auto' \| 'cpu' \| 'webgpu' \| 'cuda', got "tpu"/, 'request.device'],
  ];
  it.each(refused)('refuses %s(%j) with BAD_INPUT naming the argument', (method, args, message, argument) => {
    const e = checkCallArgs(method, args);
    expect(e).toMatchObject({ code: 'BAD_INPUT', details: { method, ...(argument ? { argument } : {}) } });
    expect(e!.message).toMatch(message);
    expect(e!.message).toContain(`Fix: call it as the EngineApi contract declares: ${method}(`);
  });
});

describe('dispatchCall', () => {
  it('refuses malformed arguments without running the method', async () => {
    let ran = false;
    const api = { createProject: async () => ((ran = true), null) } as unknown as EngineApi;
    const r = await dispatchCall(api, 'createProject', { dir: '/p' });
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: { method: 'createProject' } } });
    expect(ran).toBe(false);
  });
});
