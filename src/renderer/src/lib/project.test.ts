import { describe, expect, it } from 'vitest';
import type { ProjectInfo } from '../../../shared/api.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { ProjectState } from './project.svelte.js';

function withProject(dir = '/p/legal', name = 'Legal'): FakeEngine {
  const engine = new FakeEngine();
  const info: ProjectInfo = { dir, name, schemaVersion: 1, createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z' };
  engine.projects.set(dir, info);
  engine.recents = [{ dir, name, openedAt: '2026-11-01T00:00:00Z' }];
  engine.open = info;
  return engine;
}

describe('ProjectState', () => {
  it('load restores the project the engine has open and the recent list', async () => {
    const state = new ProjectState(withProject());
    expect(state.loaded).toBe(false);
    expect(await state.load()).toBe(true);
    expect(state.loaded).toBe(true);
    expect(state.current?.name).toBe('Legal');
    expect(state.recents.map((r) => [r.dir, r.exists])).toEqual([['/p/legal', true]]);
  });

  it('create trims its inputs, opens the new project and lists it first', async () => {
    const engine = withProject();
    const state = new ProjectState(engine);
    await state.load();
    expect(await state.create('  /p/tickets ', ' Tickets ')).toBe(true);
    expect(engine.calls.find((c) => c.method === 'createProject')?.args).toEqual(['/p/tickets', 'Tickets']);
    expect(state.current).toMatchObject({ dir: '/p/tickets', name: 'Tickets' });
    expect(state.recents.map((r) => r.dir)).toEqual(['/p/tickets', '/p/legal']);
  });

  it('keeps an engine error as code + message, leaves the state as it was, and clears it on the next success', async () => {
    const engine = withProject();
    const state = new ProjectState(engine);
    await state.load();
    expect(await state.create('/p/legal', 'Again')).toBe(false);
    expect(state.error).toEqual({ code: 'ALREADY_EXISTS', message: '/p/legal is not empty: choose an empty or new folder' });
    expect(state.current?.name).toBe('Legal');
    expect(state.busy).toBeNull();
    expect(await state.rename('Contracts')).toBe(true);
    expect(state.error).toBeNull();
    expect(state.current?.name).toBe('Contracts');
    expect(state.recents[0].name).toBe('Contracts');
  });

  it('close clears the current project; open from the recent list restores it', async () => {
    const state = new ProjectState(withProject());
    await state.load();
    await state.close();
    expect(state.current).toBeNull();
    await state.open('/p/legal');
    expect(state.current?.dir).toBe('/p/legal');
  });

  it('forget drops a missing entry from the recent list', async () => {
    const engine = withProject();
    engine.recents.push({ dir: '/p/gone', name: 'Gone', openedAt: '2026-10-01T00:00:00Z' });
    const state = new ProjectState(engine);
    await state.load();
    expect(state.recents.find((r) => r.dir === '/p/gone')?.exists).toBe(false);
    await state.forget('/p/gone');
    expect(state.recents.map((r) => r.dir)).toEqual(['/p/legal']);
  });

  it('refuses a second action while one runs, so double clicks cannot race', async () => {
    const engine = withProject();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const open = engine.openProject.bind(engine);
    engine.openProject = async (dir) => (await gate, open(dir));
    const state = new ProjectState(engine);
    const first = state.open('/p/legal');
    expect(state.busy).toBe('Opening project…');
    expect(await state.close()).toBe(false);
    expect(engine.calls.some((c) => c.method === 'closeProject')).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(state.busy).toBeNull();
  });

  it('follows project changes made elsewhere (menu, other tab) and stops after dispose', async () => {
    const engine = withProject();
    const state = new ProjectState(engine);
    await state.load();
    engine.changeElsewhere(null);
    expect(state.current).toBeNull();
    state.dispose();
    expect(engine.listenerCount).toBe(0);
  });

  it('chooseFolder reports UNSUPPORTED where there are no native dialogs', async () => {
    const state = new ProjectState(new FakeEngine());
    expect(await state.chooseFolder({ title: 't', mode: 'open' })).toBeNull();
    expect(state.error?.code).toBe('UNSUPPORTED');
  });
});
