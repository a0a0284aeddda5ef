import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTempLeftoverName, sweepTempLeftovers } from './sweep.js';
import { tempPathFor } from './atomic.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'embedsmith-sweep-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

const old = async (p: string) => {
  const t = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  await utimes(p, t, t);
};

describe('sweepTempLeftovers', () => {
  it("knows every temp name the writers use and no user file's", () => {
    for (const name of [
      '.project.json.0123456789ab.tmp', // writeFileAtomic, lock files being created
      '.model.0123456789ab.tmp', // model folders (save.ts), pretrain's copy
      '.model.0123456789ab.tmp.old',
      '.faq.0123456789ab.import', // dataset folders
      '.step-40.01234567.tmp', // checkpoints, earlier versions
      'metrics.jsonl.01234567.tmp',
      '.model.4242.tmp',
      'vectors.npy.4242.tmp',
      'consistency.jsonl.tmp',
      'model.onnx_data.tmp',
      'project.lock.stale-0123456789ab',
    ]) {
      expect([name, isTempLeftoverName(name)]).toEqual([name, true]);
    }
    for (const name of ['model', 'rows.jsonl', 'notes.tmp', '.hidden', 'backup.0123.tmp', 'step-40', 'report.deadbeef.tmp']) expect([name, isTempLeftoverName(name)]).toEqual([name, false]);
    // And the name the writers make today is among them.
    const made = tempPathFor(join(tmp, 'faq'), 'import');
    expect(isTempLeftoverName(made.slice(tmp.length + 1))).toBe(true);
  });

  it('removes old leftovers down to the depth asked, keeps young ones and everything else', async () => {
    const run = join(tmp, 'run');
    await mkdir(join(run, 'checkpoints', '.step-3.0123abcd.tmp'), { recursive: true });
    await writeFile(join(run, 'checkpoints', '.step-3.0123abcd.tmp', 'params.safetensors'), 'x');
    await old(join(run, 'checkpoints', '.step-3.0123abcd.tmp', 'params.safetensors'));
    await old(join(run, 'checkpoints', '.step-3.0123abcd.tmp'));
    await writeFile(join(run, '.metrics.jsonl.0123456789ab.tmp'), 'young');
    await writeFile(join(run, 'notes.tmp'), 'mine');
    await old(join(run, 'notes.tmp'));
    const shallow = await sweepTempLeftovers([run], { depth: 0 });
    expect(shallow.removed).toEqual([]);
    const deep = await sweepTempLeftovers([run], { depth: 2 });
    expect(deep.removed).toEqual([join(run, 'checkpoints', '.step-3.0123abcd.tmp')]);
    expect((await readdir(run)).sort()).toEqual(['.metrics.jsonl.0123456789ab.tmp', 'checkpoints', 'notes.tmp']);
  });

  it('a folder still being filled (a young file inside an old folder) is kept', async () => {
    const temp = join(tmp, '.big.0123456789ab.import');
    await mkdir(temp);
    await writeFile(join(temp, 'rows.jsonl'), 'still writing');
    await old(temp);
    expect((await sweepTempLeftovers([tmp])).removed).toEqual([]);
  });

  it('puts a model folder back from its .tmp.old copy when the folder itself is missing', async () => {
    const aside = join(tmp, '.model.0123456789ab.tmp.old');
    await mkdir(aside);
    await old(aside);
    const r = await sweepTempLeftovers([tmp]);
    expect(r).toEqual({ removed: [], restored: [join(tmp, 'model')] });
    // With the folder present, the aside copy is the stale one and goes.
    await mkdir(aside);
    await old(aside);
    expect((await sweepTempLeftovers([tmp])).removed).toEqual([aside]);
  });
});
