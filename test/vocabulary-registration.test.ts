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
