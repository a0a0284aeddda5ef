import { describe, expect, it } from 'vitest';
import { folderNameFor, joinPath } from './paths.js';
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

  it('a page still to come names its issue; every section has landed now', () => {
    for (const page of PAGES) if (page.pending) expect(page.pending.issue).toBeGreaterThan(0);
    expect(PAGES.filter((p) => p.pending).map((p) => p.id)).toEqual([]);
  });
});
