import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecentProjects } from './recent.js';
import { createProject } from './project.js';
import type { ProjectInfo } from '../../../shared/api.js';

let tmp: string;
let file: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-recent-'));
  file = join(tmp, 'state', 'recent.json');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const info = (name: string, dir = join(tmp, name)): ProjectInfo => ({
  dir,
  name,
  schemaVersion: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const names = async (r: RecentProjects): Promise<string[]> => (await r.list()).map((p) => p.name);

describe('RecentProjects', () => {
  it('starts empty without creating the file', async () => {
    expect(await new RecentProjects(file).list()).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('lists newest first, moves a re-opened project to the top once, and persists', async () => {
    const r = new RecentProjects(file);
    for (const n of ['A', 'B', 'C']) await r.touch(info(n));
    expect(await names(r)).toEqual(['C', 'B', 'A']);
    await r.touch(info('A renamed', join(tmp, 'A')));
    expect(await names(r)).toEqual(['A renamed', 'C', 'B']);
    expect(await names(new RecentProjects(file))).toEqual(['A renamed', 'C', 'B']);
    expect(JSON.parse(await readFile(file, 'utf8')).projects).toHaveLength(3); // no duplicate on disk either
    const list = await r.list();
    expect(Date.parse(list[0].openedAt)).toBeGreaterThanOrEqual(Date.parse(list[1].openedAt));
  });

  it('resolves paths, so two spellings of one folder are one entry', async () => {
    const r = new RecentProjects(file);
    await r.touch(info('A', join(tmp, 'x', '..', 'A')));
    await r.touch(info('A again', join(tmp, 'A')));
    const list = await r.list();
    expect(list).toHaveLength(1);
    expect(list[0].dir).toBe(join(tmp, 'A'));
  });

  it('keeps at most `max` entries, dropping the oldest', async () => {
    const r = new RecentProjects(file, 2);
    for (const n of ['A', 'B', 'C']) await r.touch(info(n));
    expect(await names(r)).toEqual(['C', 'B']);
  });

  it('forget removes one entry, returns the rest, and persists', async () => {
    const r = new RecentProjects(file);
    for (const n of ['A', 'B', 'C']) await r.touch(info(n));
    expect((await r.forget(join(tmp, 'B'))).map((p) => p.name)).toEqual(['C', 'A']);
    expect(await names(new RecentProjects(file))).toEqual(['C', 'A']);
    expect((await r.forget(join(tmp, 'nope'))).map((p) => p.name)).toEqual(['C', 'A']);
  });

  it('`exists` reflects whether the folder still holds a project.json', async () => {
    const p = await createProject(join(tmp, 'real'), 'Real');
    await p.close();
    const r = new RecentProjects(file);
    await r.touch(p.info);
    await r.touch(info('Gone'));
    expect((await r.list()).map((e) => [e.name, e.exists])).toEqual([
      ['Gone', false],
      ['Real', true],
    ]);
    await rm(p.paths.projectJson);
    expect((await r.list()).map((e) => e.exists)).toEqual([false, false]);
  });

  it('a corrupt recent.json starts an empty list and is kept as recent.json.bad', async () => {
    await mkdir(join(tmp, 'state'));
    for (const bad of ['{"projects": [', '{"projects": 5}', 'null']) {
      await writeFile(file, bad);
      const r = new RecentProjects(file);
      expect(await r.list()).toEqual([]);
      expect(await readFile(file + '.bad', 'utf8')).toBe(bad);
      await r.touch(info('A'));
      expect(await names(r)).toEqual(['A']);
      await rm(file);
    }
  });

  it('drops only the malformed entries of an otherwise good file', async () => {
    await mkdir(join(tmp, 'state'));
    const good = { dir: join(tmp, 'A'), name: 'A', openedAt: '2026-02-01T00:00:00.000Z' };
    await writeFile(file, JSON.stringify({ schemaVersion: 1, projects: [{ dir: 7 }, good, null, { ...good, openedAt: 'soon' }] }));
    expect(await names(new RecentProjects(file))).toEqual(['A']);
  });

  it('concurrent touches in one process lose none', async () => {
    const r = new RecentProjects(file);
    await Promise.all(['A', 'B', 'C', 'D', 'E'].map((n) => r.touch(info(n))));
    expect((await names(r)).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
  });
});
