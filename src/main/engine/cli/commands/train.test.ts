// `train --template NAME`: a preset, or a template saved in the project the data (or the run)
// lies in — the Templates page's own, read from PROJECT/templates.json.
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMPLATE_PRESETS, saveTemplate } from '../../data/templates.js';
import { writeRandomBert } from '../../model/random-model.js';
import { createProject } from '../../workspace/project.js';
import { reproduceCommand } from '../../train/card.js';
import { trainSettingsFromArgs } from './train.js';

const TOK = join(import.meta.dirname, '../../../../../test/fixtures/models/bert-wordpiece-uncased');
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-train-'));
  // Trained at 32 tokens with a 128-row position table, like the demo's base model.
  await writeRandomBert(join(tmp, 'model'), { tokenizerDir: TOK, hidden: 32, layers: 1, heads: 2, intermediate: 64, maxPositions: 128, maxSeqLength: 32 });
});
afterEach(async () => rm(tmp, { recursive: true, force: true }));

const args = (data: string, out: string, template: string) => ['--model', join(tmp, 'model'), '--data', data, '--out', out, '--template', template];

describe('embedsmith train --template', () => {
  it("takes a template saved in the data's project, else in the run's, and presets anywhere", async () => {
    const dir = join(tmp, 'legal');
    const project = await createProject(dir, 'Legal');
    try {
      await saveTemplate(dir, 'clauses', { query: 'Find the clause: {text}', document: 'Clause: ', text: 'ignored by training' });
      const inProject = await trainSettingsFromArgs(args(join(dir, 'datasets', 'faq'), join(tmp, 'elsewhere'), 'clauses'));
      expect(inProject.settings.template).toEqual({ query: 'Find the clause: {text}', document: 'Clause: ' });
      const runInProject = await trainSettingsFromArgs(args(join(tmp, 'loose-data'), join(dir, 'runs', 'r1'), 'clauses'));
      expect(runInProject.settings.template).toEqual({ query: 'Find the clause: {text}', document: 'Clause: ' });
      const preset = await trainSettingsFromArgs(args(join(tmp, 'loose-data'), join(tmp, 'run'), 'e5'));
      expect(preset.settings.template).toEqual({ query: TEMPLATE_PRESETS.e5.query, document: TEMPLATE_PRESETS.e5.document });
    } finally {
      await project.close();
    }
  });

  it('names the presets and the saved templates when the name is neither', async () => {
    const dir = join(tmp, 'legal');
    const project = await createProject(dir, 'Legal');
    try {
      await saveTemplate(dir, 'clauses', { query: 'Q: ', document: '', text: '' });
      await expect(trainSettingsFromArgs(args(join(dir, 'datasets', 'faq'), join(dir, 'runs', 'r'), 'medical'))).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: `no template 'medical': presets are none, e5, bge, nomic, instructor, qwen3, embeddinggemma; ${join(dir, 'templates.json')} holds clauses. Fix: give one of those names.`,
      });
      // Outside every project a saved name is not found, and the message says why.
      await expect(trainSettingsFromArgs(args(join(tmp, 'd'), join(tmp, 'r'), 'clauses'))).rejects.toThrow(
        "no template 'clauses': presets are none, e5, bge, nomic, instructor, qwen3, embeddinggemma; a name saved on the Templates page is found when the data lies inside its project.",
      );
    } finally {
      await project.close();
    }
  });
});

describe('embedsmith train: defaults that follow the base model', () => {
  const base = () => ['--model', join(tmp, 'model'), '--data', join(tmp, 'd'), '--out', join(tmp, 'r')];

  it("takes the model's own max_seq_length (not a fixed 128) unless --max-length is given", async () => {
    expect((await trainSettingsFromArgs(base())).settings.maxLength).toBe(32);
    expect((await trainSettingsFromArgs([...base(), '--max-length', '16'])).settings.maxLength).toBe(16);
    // A longer setting is the user's to make (a warning is logged by the run, see train.test.ts).
    expect((await trainSettingsFromArgs([...base(), '--max-length', '64'])).settings.maxLength).toBe(64);
  });

  it('parses --lora, --lora-alpha, --lora-targets (unset: full fine-tuning)', async () => {
    const plain = (await trainSettingsFromArgs(base())).settings;
    expect([plain.lora, plain.loraAlpha, plain.loraDropout, plain.loraTargets]).toEqual([null, null, 0, null]);
    const s = (await trainSettingsFromArgs([...base(), '--lora', '16', '--lora-alpha', '8', '--lora-targets', 'query, value'])).settings;
    expect([s.lora, s.loraAlpha, s.loraDropout, s.loraTargets]).toEqual([16, 8, 0, ['query', 'value']]);
  });

  it('without sentence_bert_config.json, the position table is the limit', async () => {
    await unlink(join(tmp, 'model', 'sentence_bert_config.json'));
    expect((await trainSettingsFromArgs(base())).settings.maxLength).toBe(128);
  });

  it('the learning rate follows the model width unless --lr is given', async () => {
    expect((await trainSettingsFromArgs(base())).settings.lr).toBe(2e-3);
    const wide = join(tmp, 'wide');
    // Only config.json is read for the defaults: a BERT-base-width config is enough.
    const config = JSON.parse(await readFile(join(tmp, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
    await mkdir(wide);
    await writeFile(join(wide, 'config.json'), JSON.stringify({ ...config, hidden_size: 768, num_attention_heads: 12 }));
    expect((await trainSettingsFromArgs(['--model', wide, '--data', 'd', '--out', 'r'])).settings.lr).toBe(2e-5);
    expect((await trainSettingsFromArgs([...base(), '--lr', '3e-5'])).settings.lr).toBe(3e-5);
  });
});

describe("the model card's reproduce command", () => {
  it('parses back into the same settings', async () => {
    const given = [
      '--model', join(tmp, 'model'), '--data', join(tmp, 'd'), '--out', join(tmp, 'r'), '--max-steps', '40', '--batch-size', '16', '--lr', '3e-4',
      '--warmup', '5', '--schedule', 'constant', '--weight-decay', '0', '--temperature', '0.02', '--max-length', '24', '--dropout', '0', '--seed', '7',
      '--negatives', '2', '--no-shuffle', '--matryoshka', '16,8', '--matryoshka-weights', '1,0.5', '--guide', 'base', '--guide-margin', '0.05', '--eval', join(tmp, 'e'), '--eval-every', '10', '--patience', '3', '--threads', '1', '--max-grad-norm', '2',
    ];
    const { settings } = await trainSettingsFromArgs(given);
    const command = reproduceCommand(settings, join(tmp, 'r'));
    const args = command.replace(/ \\\n {2}/g, ' ').split(' ');
    expect(args.slice(0, 2)).toEqual(['embedsmith', 'train']);
    const again = await trainSettingsFromArgs(args.slice(2));
    expect(again.settings).toEqual(settings);
    expect(again.out).toBe(join(tmp, 'r'));
  });
});

describe('embedsmith train --precision', () => {
  it('takes fp32, fp16 or auto (fp32 when absent) and refuses anything else as a usage error', async () => {
    const base = (extra: string[]) => trainSettingsFromArgs([...args(join(tmp, 'd'), join(tmp, 'r'), 'e5'), ...extra]);
    expect((await base([])).settings.precision).toBe('fp32');
    expect((await base(['--precision', 'fp16'])).settings.precision).toBe('fp16');
    expect((await base(['--precision', 'auto'])).settings.precision).toBe('auto');
    await expect(base(['--precision', 'bf16'])).rejects.toThrow("--precision must be fp32, fp16, auto, got 'bf16'");
  });
});
