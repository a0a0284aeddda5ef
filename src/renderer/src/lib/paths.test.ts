import { describe, expect, it } from 'vitest';
import { distinguishingTails, folderNameFor, joinPath } from './paths.js';
import { pageFromHash, PAGES } from './pages.js';

describe('folderNameFor', () => {
  it('makes a lower-case, dash-separated folder name and keeps non-ASCII letters', () => {
    expect(folderNameFor('  Support tickets (EN) ')).toBe('support-tickets-en');
    expect(folderNameFor('Médecine / notes')).toBe('médecine-notes');
    expect(folderNameFor('!!!')).toBe('project');
  });
});

describe('joinPath', () => {
  it('uses the separator of the parent and does not double it', () => {
    expect(joinPath('/home/ada/Embedsmith/', 'x')).toBe('/home/ada/Embedsmith/x');
    expect(joinPath('C:\\Users\\ada\\Embedsmith', 'x')).toBe('C:\\Users\\ada\\Embedsmith\\x');
    expect(joinPath('C:\\', 'x')).toBe('C:\\x');
    expect(joinPath('/', 'x')).toBe('/x');
  });
});

describe('pageFromHash', () => {
  it('maps #/id to a page and anything else to the Project page', () => {
    expect(pageFromHash('#/mining')).toBe('mining');
    expect(pageFromHash('')).toBe('project');
    expect(pageFromHash('#/nope')).toBe('project');
  });

  it('every page that works inside a project says why in a sentence', () => {
    for (const page of PAGES) if (page.needsProject) expect(page.needsProject).toMatch(/^[A-Z].*\.$/);
  });
});

describe('distinguishingTails', () => {
  it('tells same-named projects apart by the shortest path tail, and leaves unique names alone', () => {
    const tails = distinguishingTails([
      { dir: '/home/ada/Embedsmith/Embedsmith demo', name: 'Embedsmith demo' },
      { dir: '/tmp/a/Embedsmith demo', name: 'Embedsmith demo' },
      { dir: '/tmp/b/Embedsmith demo', name: 'Embedsmith demo' },
      { dir: '/tmp/demo-2', name: 'Embedsmith demo' },
      { dir: '/p/legal', name: 'Legal' },
    ]);
    expect(tails.get('/home/ada/Embedsmith/Embedsmith demo')).toBe('…/Embedsmith/Embedsmith demo');
    expect(tails.get('/tmp/a/Embedsmith demo')).toBe('…/a/Embedsmith demo');
    expect(tails.get('/tmp/b/Embedsmith demo')).toBe('…/b/Embedsmith demo');
    expect(tails.get('/tmp/demo-2')).toBe('…/demo-2');
    expect(tails.get('/p/legal')).toBeNull();
  });

  it('shows the whole path when one is the tail of another', () => {
    const tails = distinguishingTails([{ dir: '/x/y', name: 'N' }, { dir: '/a/x/y', name: 'N' }]);
    expect(tails.get('/x/y')).toBe('/x/y');
    expect(tails.get('/a/x/y')).toBe('/a/x/y');
  });
});
