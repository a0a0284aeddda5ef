import { describe, expect, it } from 'vitest';
import { EngineError } from '../../shared/api.js';
import { act, goTo, startApp, useApp } from './testing/app.js';
import { PAGES } from './lib/pages.js';
import { FakeEngine } from './testing/fake-engine.js';
import { button, byLabel, queryButton, type } from './testing/dom.js';

const start = (engine: FakeEngine) => startApp(engine, '');

const statusBar = () => document.querySelector('footer[aria-label="Status bar"]')!;
const heading = () => document.querySelector('h1')!.textContent;

useApp();

describe('App shell', () => {
  it('lists the sections in pipeline order and marks the current one', async () => {
    await start(new FakeEngine());
    const links = [...document.querySelectorAll('nav[aria-label="Sections"] a')];
    expect(links.map((a) => a.textContent?.replace('soon', '').trim())).toEqual([
      'Project', 'Models', 'Data', 'Templates', 'Mining', 'Training', 'Evaluate', 'Embeddings', 'Export',
    ]);
    expect(links.filter((a) => a.getAttribute('aria-current') === 'page').map((a) => a.getAttribute('href'))).toEqual(['#/project']);
  });

  it('moves focus along the nav with arrow keys, Home and End', async () => {
    await start(new FakeEngine());
    const links = [...document.querySelectorAll<HTMLAnchorElement>('nav a')];
    const press = (key: string) =>
      document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
    links[0].focus();
    press('ArrowDown');
    expect(document.activeElement).toBe(links[1]);
    press('ArrowUp');
    press('ArrowUp');
    expect(document.activeElement).toBe(links[8]);
    press('Home');
    expect(document.activeElement).toBe(links[0]);
    press('End');
    expect(document.activeElement).toBe(links[8]);
  });

  it('every section shows its own heading; one that works inside a project says why and links to the Project page while none is open', async () => {
    await start(new FakeEngine()); // no project open
    for (const p of PAGES) {
      goTo(`#/${p.id}`);
      expect(heading()).toBe(p.label);
      expect(document.querySelector('nav a[aria-current="page"]')!.getAttribute('href')).toBe(`#/${p.id}`);
      const text = document.querySelector('main')!.textContent ?? '';
      if (p.needsProject) {
        expect(text).toContain(`${p.needsProject} Open or create a project first.`);
        expect(document.querySelector('main a[href="#/project"]')).not.toBeNull();
        expect(document.querySelector('main form')).toBeNull();
      } else {
        expect(document.querySelector('main form')).not.toBeNull();
      }
    }
    expect(PAGES.filter((p) => !p.needsProject).map((p) => p.id)).toEqual(['project', 'models']);
  });

  it('shows only the heading and "Connecting…" until the engine first answers', async () => {
    const engine = new FakeEngine();
    let answer!: () => void;
    const info = engine.getEngineInfo.bind(engine);
    engine.getEngineInfo = () => new Promise((resolve) => (answer = () => resolve(info())));
    await start(engine);
    for (const p of PAGES) {
      goTo(`#/${p.id}`);
      expect(heading()).toBe(p.label);
      expect(document.querySelector('main')!.textContent).toContain('Connecting to the engine…');
      expect(document.querySelector('main form')).toBeNull();
    }
    await act(() => answer());
    expect(document.querySelector('main')!.textContent).not.toContain('Connecting to the engine…');
  });

  it('shows engine host and version and the open project in the status bar', async () => {
    const engine = new FakeEngine();
    await start(engine);
    expect(statusBar().textContent).toContain('0.1.0-test');
    expect(statusBar().textContent).toContain('web-bridge');
    expect(statusBar().textContent).toContain('No project open');
  });

  it('toggles the theme and remembers the choice', async () => {
    await start(new FakeEngine());
    const toggle = button('Switch to dark theme');
    await act(() => toggle.click());
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem('embedsmith.theme')).toBe('dark');
    // The label follows the state (WCAG 4.1.2): it now offers the way back.
    expect(toggle.textContent!.trim()).toBe('Switch to light theme');
    await act(() => toggle.click());
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(toggle.textContent!.trim()).toBe('Switch to dark theme');
  });

  it('says when the engine cannot be reached, with its message and code, and asks nothing else', async () => {
    const engine = new FakeEngine();
    engine.getEngineInfo = async () => {
      throw new EngineError('HOST_CRASHED', 'the engine host exited with code 1: see the log');
    };
    await start(engine);
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Cannot reach the Embedsmith engine');
    expect(alert.textContent).toContain('the engine host exited with code 1: see the log');
    expect(alert.textContent).toContain('HOST_CRASHED');
    expect(engine.calls.map((c) => c.method)).toEqual([]);
    expect(queryButton('Create project')).toBeNull(); // no forms that could only fail
  });
});

describe('Project page', () => {
  it('creates a project from a name and a suggested folder, then shows it as open', async () => {
    const engine = new FakeEngine();
    await start(engine);
    expect(queryButton('Browse…')).toBeNull(); // no native dialogs behind the bridge
    await act(() => type(byLabel('New project name'), 'Support tickets'));
    expect(byLabel('New project folder').value).toBe('/home/ada/Embedsmith/support-tickets');
    await act(() => button('Create project').click());
    expect(engine.calls.find((c) => c.method === 'createProject')?.args).toEqual(['/home/ada/Embedsmith/support-tickets', 'Support tickets']);
    expect(document.querySelector('#current-title')!.textContent).toBe('Open project: Support tickets');
    expect(statusBar().textContent).toContain('Project: Support tickets');
    expect(byLabel('New project name').value).toBe('');
    // The open project is in the recent list, marked and not re-openable.
    expect(button('Open Support tickets').disabled).toBe(true);
  });

  it('uses a typed folder over the suggestion, and Browse… where native dialogs exist', async () => {
    const engine = new FakeEngine({ info: { nativeDialogs: true }, chosenFolder: '/data/picked' });
    await start(engine);
    await act(() => type(byLabel('New project name'), 'X'));
    await act(() => button('Browse…', document.querySelector('[aria-labelledby="create-title"]')!).click());
    expect(engine.calls.find((c) => c.method === 'chooseFolder')?.args[0]).toMatchObject({ mode: 'create' });
    expect(byLabel('New project folder').value).toBe('/data/picked');
    await act(() => type(byLabel('New project name'), 'Y'));
    expect(byLabel('New project folder').value).toBe('/data/picked');
  });

  it('shows an engine error with its message and code, and dismisses it', async () => {
    const engine = new FakeEngine();
    engine.otherFolders.add('/full');
    await start(engine);
    await act(() => type(byLabel('New project name'), 'A'));
    await act(() => type(byLabel('New project folder'), '/full'));
    await act(() => button('Create project').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('/full is not empty: choose an empty or new folder');
    expect(alert.textContent).toContain('ALREADY_EXISTS');
    await act(() => button('Dismiss error').click());
    expect(document.querySelector('[role="alert"]')).toBeNull();
  });

  it('restores the open project on load, renames it, closes it and reopens it from the recent list', async () => {
    const engine = new FakeEngine();
    await engine.createProject('/p/legal', 'Legal');
    await start(engine);
    expect(document.querySelector('#current-title')!.textContent).toBe('Open project: Legal');
    await act(() => type(byLabel('Project name'), 'Contracts'));
    await act(() => button('Rename').click());
    expect(engine.open?.name).toBe('Contracts');
    expect(statusBar().textContent).toContain('Project: Contracts');
    await act(() => button('Close project').click());
    expect(document.querySelector('#current-title')).toBeNull();
    expect(statusBar().textContent).toContain('No project open');
    await act(() => button('Open Contracts').click());
    expect(document.querySelector('#current-title')!.textContent).toBe('Open project: Contracts');
  });

  it('opens a project by typed path', async () => {
    const engine = new FakeEngine();
    await engine.createProject('/p/a', 'A');
    await engine.closeProject();
    await start(engine);
    await act(() => type(byLabel('Project folder to open'), '/p/a'));
    await act(() => button('Open project').click());
    expect(engine.open?.dir).toBe('/p/a');
    expect(statusBar().textContent).toContain('Project: A');
  });

  it('tells recent projects with the same name apart by their folders, on screen and in their names', async () => {
    const engine = new FakeEngine();
    await engine.createProject('/tmp/a/Embedsmith demo', 'Embedsmith demo');
    await engine.createProject('/tmp/b/Embedsmith demo', 'Embedsmith demo');
    await engine.createProject('/p/legal', 'Legal');
    await engine.closeProject();
    await start(engine);
    await act(() => button('Open Embedsmith demo (…/a/Embedsmith demo)').click());
    expect(engine.open?.dir).toBe('/tmp/a/Embedsmith demo');
    expect(queryButton('Open Embedsmith demo (…/b/Embedsmith demo)')).not.toBeNull();
    expect(queryButton('Open Legal')).not.toBeNull();
    const names = [...document.querySelectorAll('ul[aria-labelledby="recent-title"] .name')].map((n) => n.textContent!.replace(/\s+/g, ' ').trim());
    expect(names).toContain('Embedsmith demo (…/b/Embedsmith demo)');
  });

  it('marks recent projects whose folder is gone and forgets them', async () => {
    const engine = new FakeEngine();
    engine.recents = [{ dir: '/p/gone', name: 'Gone', openedAt: '2026-10-01T00:00:00Z' }];
    await start(engine);
    const list = document.querySelector('ul[aria-labelledby="recent-title"]')!;
    expect(list.textContent).toContain('missing');
    expect(queryButton('Open Gone')).toBeNull();
    await act(() => button('Forget Gone').click());
    expect(engine.calls.some((c) => c.method === 'forgetRecentProject' && c.args[0] === '/p/gone')).toBe(true);
    expect(document.querySelector('ul[aria-labelledby="recent-title"]')).toBeNull();
  });
});
