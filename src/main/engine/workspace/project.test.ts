import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, openProject, MAX_PROJECT_NAME, type OpenProject } from './project.js';
import { PROJECT_SCHEMA_VERSION } from '../../../shared/api.js';
import { engineError } from '../../../../test/support/dataset-rows.js';

let tmp: string;
const opened: OpenProject[] = [];
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-project-'));
});
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
  await rm(tmp, { recursive: true, force: true });
});
const track = (p: OpenProject): OpenProject => (opened.push(p), p);
const readJson = async (p: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(p, 'utf8'));
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null)) !== null;


describe('createProject / openProject / rename / close', () => {
  it('round-trips: create lays out the folder, rename saves, reopen after close reads it back', async () => {
    const dir = join(tmp, 'sub', '..', 'proj'); // resolved to an absolute, normalised path
    const p = await createProject(dir, '  Legal search  ', { holder: 'Embedsmith desktop' });
    expect(p.dir).toBe(join(tmp, 'proj'));
    expect(p.info).toMatchObject({ dir: join(tmp, 'proj'), name: 'Legal search', schemaVersion: PROJECT_SCHEMA_VERSION });
    expect(p.info.createdAt).toBe(p.info.updatedAt);
    expect((await readdir(p.dir)).sort()).toEqual(['cache', 'datasets', 'project.json', 'project.lock', 'runs', 'templates.json']);
    for (const d of [p.paths.datasets, p.paths.runs, p.paths.cache]) expect((await stat(d)).isDirectory()).toBe(true);
    expect(await readJson(p.paths.templates)).toEqual({ schemaVersion: 1, templates: {} });
    expect(await readJson(p.paths.projectJson)).toEqual({
      schemaVersion: PROJECT_SCHEMA_VERSION,
      name: 'Legal search',
      createdAt: p.info.createdAt,
      updatedAt: p.info.updatedAt,
    });
    expect(await readJson(p.paths.lock)).toMatchObject({ pid: process.pid, holder: 'Embedsmith desktop' });

    const createdAt = p.info.createdAt;
    const renamed = await p.rename(' Contracts ');
    expect(renamed.name).toBe('Contracts');
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(createdAt));
    expect(p.info).toEqual(renamed);
    expect((await readJson(p.paths.projectJson)).name).toBe('Contracts');

    await p.close();
    await p.close(); // idempotent
    expect(await exists(p.paths.lock)).toBe(false);
    await expect(p.rename('Later')).rejects.toMatchObject({ code: 'BAD_INPUT' });

    const again = track(await openProject(dir));
    expect(again.info).toEqual({ ...renamed });
    expect(again.info.createdAt).toBe(createdAt);
    expect(again.notes).toEqual([]);
  });

  it('rejects bad names with BAD_INPUT and leaves disk untouched', async () => {
    for (const bad of ['', '   ', 'a'.repeat(MAX_PROJECT_NAME + 1), 'two\nlines']) {
      expect((await engineError(createProject(join(tmp, 'x'), bad))).code).toBe('BAD_INPUT');
    }
    expect(await exists(join(tmp, 'x'))).toBe(false);
    const p = track(await createProject(join(tmp, 'p'), 'a'.repeat(MAX_PROJECT_NAME))); // the limit itself is fine
    const before = await readFile(p.paths.projectJson, 'utf8');
    expect((await engineError(p.rename(' \t '))).code).toBe('BAD_INPUT');
    expect((await engineError(p.rename('b'.repeat(MAX_PROJECT_NAME + 1)))).message).toContain(`${MAX_PROJECT_NAME + 1}`);
    expect(await readFile(p.paths.projectJson, 'utf8')).toBe(before);
  });

  it('keeps fields of project.json it does not know when saving', async () => {
    const p = await createProject(join(tmp, 'p'), 'A');
    await writeFile(p.paths.projectJson, JSON.stringify({ ...(await readJson(p.paths.projectJson)), notes: 'keep me' }));
    await p.close();
    const q = track(await openProject(p.dir));
    await q.rename('B');
    expect(await readJson(q.paths.projectJson)).toMatchObject({ name: 'B', notes: 'keep me' });
  });

  it('saves concurrent renames in call order, so the last one wins', async () => {
    const p = track(await createProject(join(tmp, 'p'), 'A'));
    await Promise.all(['B', 'C', 'D'].map((n) => p.rename(n)));
    expect(p.info.name).toBe('D');
    expect((await readJson(p.paths.projectJson)).name).toBe('D');
  });

  it('open of a missing folder or a folder without project.json is NOT_FOUND and leaves no lock', async () => {
    expect((await engineError(openProject(join(tmp, 'nowhere')))).code).toBe('NOT_FOUND');
    await writeFile(join(tmp, 'notes.txt'), 'hello');
    const err = await engineError(openProject(tmp));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('project.json');
    expect(await readdir(tmp)).toEqual(['notes.txt']);
  });

  it('create over a non-empty folder is BAD_INPUT, over a project ALREADY_EXISTS; nothing is touched', async () => {
    await writeFile(join(tmp, 'thesis.docx'), 'precious');
    const err = await engineError(createProject(tmp, 'P'));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('thesis.docx');
    expect(err.message).toContain('Fix:');
    expect(await readdir(tmp)).toEqual(['thesis.docx']);

    const dir = join(tmp, 'proj');
    await (await createProject(dir, 'P')).close();
    const before = await readFile(join(dir, 'project.json'), 'utf8');
    expect((await engineError(createProject(dir, 'Q'))).code).toBe('ALREADY_EXISTS');
    expect(await readFile(join(dir, 'project.json'), 'utf8')).toBe(before);
    expect(await exists(join(dir, 'project.lock'))).toBe(false);

    await writeFile(join(tmp, 'file'), '');
    expect((await engineError(createProject(join(tmp, 'file'), 'P'))).code).toBe('BAD_INPUT');
  });

  it('create accepts an existing empty folder, or one holding only OS litter', async () => {
    const dir = join(tmp, 'empty');
    await mkdir(dir);
    await writeFile(join(dir, '.DS_Store'), '');
    const p = track(await createProject(dir, 'P'));
    expect(p.info.name).toBe('P');
  });

  it('a project.json from a newer Embedsmith is SCHEMA, asks for an update, and releases the lock', async () => {
    const dir = join(tmp, 'p');
    await (await createProject(dir, 'P')).close();
    await writeFile(join(dir, 'project.json'), JSON.stringify({ ...(await readJson(join(dir, 'project.json'))), schemaVersion: PROJECT_SCHEMA_VERSION + 1 }));
    const err = await engineError(openProject(dir));
    expect(err.code).toBe('SCHEMA');
    expect(err.message).toContain('newer');
    expect(err.message).toContain(`schemaVersion ${PROJECT_SCHEMA_VERSION + 1}`);
    expect(err.message).toMatch(/update Embedsmith/);
    expect(await exists(join(dir, 'project.lock'))).toBe(false);
  });

  it('an unknown schemaVersion or a missing field is SCHEMA naming it', async () => {
    const dir = join(tmp, 'p');
    await (await createProject(dir, 'P')).close();
    const good = await readJson(join(dir, 'project.json'));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, schemaVersion: '1' }, 'schemaVersion'],
      [{ ...good, schemaVersion: 0 }, 'schemaVersion'],
      [{ ...good, name: undefined }, '"name"'],
      [{ ...good, createdAt: 'yesterday' }, '"createdAt"'],
    ];
    for (const [content, field] of cases) {
      await writeFile(join(dir, 'project.json'), JSON.stringify(content));
      const err = await engineError(openProject(dir));
      expect(err.code).toBe('SCHEMA');
      expect(err.message).toContain(field);
    }
    await writeFile(join(dir, 'project.json'), '[1, 2]');
    expect((await engineError(openProject(dir))).code).toBe('SCHEMA');
  });

  it('broken JSON is SCHEMA naming the file, line and column', async () => {
    const dir = join(tmp, 'p');
    await (await createProject(dir, 'P')).close();
    await writeFile(join(dir, 'project.json'), '{\n  "schemaVersion": 1,\n  "name": "P",,\n  "createdAt": "x"\n}\n');
    const err = await engineError(openProject(dir));
    expect(err.code).toBe('SCHEMA');
    expect(err.message).toContain(join(dir, 'project.json'));
    expect(err.message).toContain('line 3, column 15');
    expect(err.details).toMatchObject({ line: 3, column: 15 });
    expect(await exists(join(dir, 'project.lock'))).toBe(false);
  });

  it('open restores deleted folders and templates.json and says so', async () => {
    const p = await createProject(join(tmp, 'p'), 'P');
    await p.close();
    await rm(p.paths.cache, { recursive: true });
    await rm(p.paths.templates);
    const q = track(await openProject(p.dir));
    expect((await stat(q.paths.cache)).isDirectory()).toBe(true);
    expect(await readJson(q.paths.templates)).toEqual({ schemaVersion: 1, templates: {} });
    expect(q.notes.join('\n')).toContain(q.paths.cache);
    expect(q.notes.join('\n')).toContain('templates.json');
  });
});
