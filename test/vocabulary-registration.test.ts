// Issue 16's check that each word is declared once: a vocabulary entry registered at run time
// (here a dummy training setting) is found everywhere that entry kind is derived — the CLI's
// help and parser, the engine's checks and resume rule, the Training page's form model and the
// recipe export — without touching any of those files. Each kind registers in beforeAll and
// removes itself in afterAll; a new kind (a loss, say) is one more describe block reusing the
// fixtures and the `where` helpers below.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTrainSetting } from '../src/shared/train-settings.js';
import type { SettingRow } from '../src/shared/setting-table.js';
import { commandHelp } from '../src/main/engine/cli/main.js';
import { trainSettingsFromArgs } from '../src/main/engine/cli/commands/train.js';
import { importDataset } from '../src/main/engine/data/index.js';
import { writeRandomBert } from '../src/main/engine/model/random-model.js';
import { reproduceCommand } from '../src/main/engine/train/card.js';
import { exportRecipe } from '../src/main/engine/train/recipe.js';
import { TRAIN_DEFAULTS, type TrainSettings, checkSettings, resumeMismatch } from '../src/main/engine/train/settings.js';
import { ops as o } from '../src/main/engine/graph/index.js';
import { createEngineService } from '../src/main/engine/host/engine-service.js';
import { l2Normalize } from '../src/main/engine/nn/pooling.js';
import { tokenFeeds } from '../src/main/engine/train/batch.js';
import { type LossUnit, registerLoss } from '../src/main/engine/train/losses/index.js';
import { type StepRecord, trainRun } from '../src/main/engine/train/run.js';
import { lossOptions } from '../src/shared/losses.js';
import { formFromPreset, resumeRequest, trainFormFields, trainFormProblem, trainRequest } from '../src/renderer/src/pages/training/training.js';

const TOK = join(import.meta.dirname, 'fixtures/models/bert-wordpiece-uncased');
let root: string, model: string, data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-vocabulary-'));
  model = join(root, 'model');
  await writeRandomBert(model, { tokenizerDir: TOK, hidden: 32, layers: 1, heads: 2, intermediate: 64, seed: 1 });
  await writeFile(join(root, 'p.csv'), 'anchor,positive\nwhat is a river,a river is water\nwhat is a stone,a stone is rock\n');
  data = join(root, 'data');
  await importDataset(join(root, 'p.csv'), data);
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Where a registered entry must show up, each read the way its user reads it. */
const where = {
  trainHelp: () => commandHelp('train'),
  pretrainHelp: () => commandHelp('pretrain'),
  cliSettings: async (...extra: string[]) => (await trainSettingsFromArgs(['--model', model, '--data', data, '--out', join(root, 'unused'), ...extra])).settings as unknown as Record<string, unknown>,
  /** A run folder with `config` as its config.json, exported as a recipe: recipe.json back. */
  recipe: async (name: string, config: Record<string, unknown>) => {
    const run = join(root, `run-${name}`);
    await mkdir(run, { recursive: true });
    await writeFile(join(run, 'config.json'), JSON.stringify(config));
    await exportRecipe(run, join(root, `recipe-${name}`));
    return JSON.parse(await readFile(join(root, `recipe-${name}`, 'recipe.json'), 'utf8')) as { settings: Record<string, unknown>; filledFromDefaults: string[] };
  },
};

const runSettings = (o: Record<string, unknown> = {}): TrainSettings =>
  ({ ...TRAIN_DEFAULTS, model, data, threads: 1, device: 'cpu', template: { query: '', document: '' }, ...o }) as TrainSettings;

describe('a training setting registered at run time', () => {
  const dummy: SettingRow<number> = {
    key: 'dummyKnob', flag: 'dummy-knob', kind: 'int', default: 3, resume: 'match',
    range: { min: 1, max: 9, integer: true, why: 'a dummy has nine positions' },
    help: 'turns the dummy knob', doc: 'A setting only this test knows.',
    ui: { label: 'Dummy knob', group: 'Test', advanced: true },
  };
  let unregister: () => void;
  beforeAll(() => {
    unregister = registerTrainSetting(dummy);
  });
  afterAll(() => unregister());

  it('is refused when its key or flag is taken', () => {
    expect(() => registerTrainSetting({ ...dummy })).toThrow(/'dummyKnob' exists already/);
    expect(() => registerTrainSetting({ ...dummy, key: 'other', flag: 'lr' })).toThrow(/--lr is taken/);
    expect(() => registerTrainSetting({ ...dummy, key: 'other', flag: 'out' })).toThrow(/--out is taken/);
    expect(() => registerTrainSetting({ ...dummy, key: 'other', flag: 'other', default: 12 })).toThrow(/its default is refused by its own check: --other 12 is out of range/);
  });

  it('shows in the help of train and pretrain, with its default', () => {
    expect(where.trainHelp()).toContain('--dummy-knob N  turns the dummy knob (default: 3)');
    expect(where.trainHelp()).toContain('[--dummy-knob 3]');
    expect(where.pretrainHelp()).toContain('--dummy-knob N  turns the dummy knob (default: 3)');
  });

  it('is parsed by the CLI, defaulted when absent, and checked by the engine against its range', async () => {
    expect((await where.cliSettings()).dummyKnob).toBe(3);
    expect((await where.cliSettings('--dummy-knob', '7')).dummyKnob).toBe(7);
    await expect(where.cliSettings('--dummy-knob', 'loud')).rejects.toThrow("--dummy-knob must be a number in [1, 9], got 'loud'");
    expect(() => checkSettings(runSettings({ dummyKnob: 12 }))).toThrow(/^--dummy-knob 12 is out of range: it must be a whole number in \[1, 9\]; a dummy has nine positions/);
    expect(checkSettings(runSettings({ dummyKnob: 9 }))).toMatchObject({ dummyKnob: 9 });
  });

  it("is spelt out in the model card's reproduce command, which parses back to the same value", async () => {
    const command = reproduceCommand(runSettings({ dummyKnob: 7 }), join(root, 'r'));
    expect(command).toContain('--dummy-knob 7');
    const args = command.replace(/ \\\n {2}/g, ' ').split(' ').slice(2);
    expect((await trainSettingsFromArgs(args)).settings).toMatchObject({ dummyKnob: 7 });
  });

  it('blocks --resume when it changed, and a run saved before it existed reads as its default', () => {
    expect(resumeMismatch(runSettings({ dummyKnob: 3 }), runSettings({ dummyKnob: 7 }))).toBe('dummyKnob was 3, now 7');
    expect(resumeMismatch(runSettings(), runSettings({ dummyKnob: 3 }))).toBeNull();
  });

  it("is in the Training page's form model: a field, a default, a check, the request and the resume", () => {
    const field = trainFormFields().find((f) => f.key === 'dummyKnob');
    expect(field?.ui).toEqual({ label: 'Dummy knob', group: 'Test', advanced: true });
    const form = formFromPreset('balanced') as unknown as Record<string, unknown>;
    expect(form.dummyKnob).toBe(3);
    expect(trainFormProblem({ ...formFromPreset('balanced'), dummyKnob: 0 } as never)).toBe('Dummy knob must be a whole number at least 1 and at most 9, e.g. 3.');
    const io = { model, dataset: data, out: join(root, 'r'), canEvaluate: false, steps: 1 };
    // Advanced fields are sent once changed from the default.
    expect(trainRequest(formFromPreset('balanced'), io).settings).not.toHaveProperty('dummyKnob');
    expect(trainRequest({ ...formFromPreset('balanced'), dummyKnob: 5 } as never, io).settings).toMatchObject({ dummyKnob: 5 });
    const config = { ...runSettings({ dummyKnob: 6 }) };
    expect(resumeRequest({ dir: join(root, 'r'), config, metrics: [], checkpoints: [1], modelDir: null }).settings).toMatchObject({ dummyKnob: 6 });
  });

  it('is written by the recipe export: its value, or its default for a run made before it', async () => {
    const given = await where.recipe('given', { ...runSettings({ dummyKnob: 7 }) });
    expect(given.settings.dummyKnob).toBe(7);
    expect(given.filledFromDefaults).toEqual([]);
    const older = await where.recipe('older', { ...runSettings() });
    expect(older.settings.dummyKnob).toBe(3);
    expect(older.filledFromDefaults).toEqual(['dummyKnob']);
  });
});

describe('after removal', () => {
  it('the setting is gone from the help and the form again', () => {
    expect(where.trainHelp()).not.toContain('--dummy-knob');
    expect(trainFormFields().some((f) => f.key === 'dummyKnob')).toBe(false);
  });
});

describe('a loss registered at run time', () => {
  /** Mean over pairs of 1 − cos(query, positive): pulls each pair together, pushes nothing apart. One file's worth (train/losses/unit.ts). */
  const dummy: LossUnit = {
    name: 'dummy-align',
    title: 'Dummy alignment',
    formats: ['pairs'],
    auto: [],
    doc: 'mean of 1 − cos(query, positive) over the batch (a test loss)',
    cite: 'test/vocabulary-registration.test.ts',
    settings: ['temperature'],
    step: {
      name: 'dummy-align',
      candidates: false,
      rows: ({ queries: b }) => 2 * b,
      inputs: () => [],
      build: ({ shape }) => (e) => {
        const b = shape.queries;
        const q = l2Normalize(o.slice(e, [0], [b], [0])); // [2B, D] -> [B, D]
        const p = l2Normalize(o.slice(e, [b], [2 * b], [0])); // [2B, D] -> [B, D]
        return o.sub(1, o.div(o.reduceSum(o.mul(q, p)), b)); // -> []
      },
    },
    negativesPerQuery: () => 0,
    batch({ examples, templates, tokens, hasTokenTypes }, picks) {
      const rows = picks.map((i) => tokens.ids(templates.query(examples[i].query)));
      for (const i of picks) rows.push(tokens.ids(templates.document(examples[i].positive)));
      const { feeds, length } = tokenFeeds(rows, tokens, hasTokenTypes);
      return { feeds, shape: { batch: picks.length, length }, fillers: 0 };
    },
    recipe: (s) => ({ name: 'DummyAlignLoss', kwargs: { scale: 1 / s.temperature } }),
    card: 'a dummy alignment loss (test)',
  };
  let unregister: () => void;
  beforeAll(() => {
    unregister = registerLoss(dummy);
  });
  afterAll(() => unregister());
  it('is refused when its name is taken', () => {
    expect(() => registerLoss({ ...dummy })).toThrow(/'dummy-align' is already registered/);
    expect(() => registerLoss({ ...dummy, name: 'auto' })).toThrow(/'auto' is already registered/);
  });

  it('shows in the help (--loss choices and the loss list), is parsed by the CLI and accepted by the engine', async () => {
    expect(flat(where.trainHelp())).toContain('[--loss auto|infonce|supcon|cosent|dummy-align]');
    expect(flat(where.trainHelp())).toContain('--loss dummy-align: Dummy alignment on pairs; mean of 1 − cos(query, positive) over the batch (a test loss)');
    expect((await where.cliSettings('--loss', 'dummy-align')).loss).toBe('dummy-align');
    expect(checkSettings(runSettings({ loss: 'dummy-align' }))).toMatchObject({ loss: 'dummy-align' });
  });

  it("reaches the Training page's form model through EngineInfo: offered for pairs, not for labelled data, and sent", async () => {
    const service = createEngineService({ stateDir: join(root, 'state'), host: 'node' });
    const info = await service.getEngineInfo();
    await service.dispose();
    expect(info.losses.map((l) => l.name)).toEqual(['infonce', 'supcon', 'cosent', 'dummy-align']);
    expect(trainFormFields().find((f) => f.key === 'loss')?.ui).toEqual({ label: 'Loss', group: 'Loss', advanced: true });
    expect(lossOptions(info.losses, 'pairs').find((x) => x.value === 'dummy-align')).toMatchObject({ label: 'Dummy alignment', fits: true });
    expect(lossOptions(info.losses, 'labeled').find((x) => x.value === 'dummy-align')?.fits).toBe(false);
    const io = { model, dataset: data, out: join(root, 'r'), canEvaluate: false, steps: 1 };
    expect(trainRequest({ ...formFromPreset('balanced'), loss: 'dummy-align' }, io).settings).toMatchObject({ loss: 'dummy-align' });
  });

  it('trains (its batches, its graph, its card line), refuses a setting of another loss, and is exported as its recipe loss', async () => {
    const run = join(root, 'run-dummy-loss');
    const r = await trainRun(runSettings({ loss: 'dummy-align', batchSize: 2, maxSteps: 2, maxLength: 16 }), run);
    const steps = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    expect(steps.map((x) => x.step)).toEqual([1, 2]);
    // 1 − mean cosine lies in [0, 2]; a random model's pairs are far from both ends.
    for (const x of steps) {
      expect(x.loss).toBeGreaterThan(0.01);
      expect(x.loss).toBeLessThan(1.99);
    }
    expect(await readFile(join(r.modelDir!, 'README.md'), 'utf8')).toContain('a dummy alignment loss (test)');
    await expect(trainRun(runSettings({ loss: 'dummy-align', symmetric: true }), join(root, 'run-dummy-sym'))).rejects.toThrow(/--symmetric is a setting of the infonce loss; the dummy-align loss does not use it/);
    const out = join(root, 'recipe-dummy-loss');
    await exportRecipe(run, out);
    const recipe = JSON.parse(await readFile(join(out, 'recipe.json'), 'utf8')) as { recipe: { loss: unknown } };
    expect(recipe.recipe.loss).toEqual({ name: 'DummyAlignLoss', kwargs: { scale: 20 } });
    expect(await readFile(join(out, 'train.py'), 'utf8')).toContain('DummyAlignLoss');
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('DummyAlignLoss with {"scale":20}, the Dummy alignment loss the run trained with.');
  });
});

describe('after the loss is removed', () => {
  it('it is gone from the help and refused by the engine', () => {
    expect(flat(where.trainHelp())).toContain('[--loss auto|infonce|supcon|cosent]');
    expect(where.trainHelp()).not.toContain('dummy');
    expect(() => checkSettings(runSettings({ loss: 'dummy-align' }))).toThrow(/'dummy-align' is not a loss; use auto, infonce, supcon, cosent/);
  });
});

/** Long help lines wrap at 100 characters: compare with the wrapping undone. */
function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}
