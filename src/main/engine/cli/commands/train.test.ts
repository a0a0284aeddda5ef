// `train --template NAME`: a preset, or a template saved in the project the data (or the run)
// lies in — the Templates page's own, read from PROJECT/templates.json.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMPLATE_PRESETS, saveTemplate } from '../../data/templates.js';
import { createProject } from '../../workspace/project.js';
import { trainSettingsFromArgs } from './train.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'cli-train-'))));
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
        message: `no template 'medical': presets are none, e5, bge, nomic, instructor; ${join(dir, 'templates.json')} holds clauses. Fix: give one of those names.`,
      });
      // Outside every project a saved name is not found, and the message says why.
      await expect(trainSettingsFromArgs(args(join(tmp, 'd'), join(tmp, 'r'), 'clauses'))).rejects.toThrow(
        "no template 'clauses': presets are none, e5, bge, nomic, instructor; a name saved on the Templates page is found when the data lies inside its project.",
      );
    } finally {
      await project.close();
    }
  });
});
