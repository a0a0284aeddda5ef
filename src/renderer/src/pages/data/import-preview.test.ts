// The import form's preview state: the engine's answer for the latest settings only, and the
// file's columns kept from a refused mapping (the engine lists them in the error's details).
import { describe, expect, it } from 'vitest';
import type { ImportPreview, ImportPreviewRequest } from '../../../../shared/api.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { ImportPreviewState } from './import-preview.svelte.js';

const FILE = '/data/faq.csv';
const preview = (r: ImportPreviewRequest): ImportPreview => ({
  file: r.file, kind: 'csv', encoding: 'utf8', delimiter: r.delimiter ?? ',', columns: ['q', 'a'], format: 'pairs', roles: { anchor: 'q', positive: 'a' },
  ignoredColumns: [], rows: [{ line: 2, skipped: false, anchor: 'x', positive: 'y' }], issues: [], notes: [], bytes: 10, bytesRead: 10, complete: true,
});

describe('ImportPreviewState', () => {
  it('drops an answer for settings already changed', async () => {
    const e = new FakeEngine();
    e.importPreviews.set(FILE, preview);
    const gates: (() => void)[] = [];
    const real = e.previewImport.bind(e);
    e.previewImport = (r) => new Promise((ok) => gates.push(() => ok(real(r))));
    const s = new ImportPreviewState(e);
    const first = s.update({ file: FILE, delimiter: ',' });
    const second = s.update({ file: FILE, delimiter: ';' });
    expect(s.loading).toBe(true);
    gates[1]();
    await second;
    gates[0]();
    await first;
    expect(s.preview?.delimiter).toBe(';');
    expect(s.loading).toBe(false);
  });

  it("keeps the file's columns from a refused mapping, forgets them for a missing file, and clears on null", async () => {
    const e = new FakeEngine();
    e.importPreviews.set(FILE, preview);
    const s = new ImportPreviewState(e);
    await s.update({ file: FILE, map: 'positive=answer' });
    expect(s.preview).toBeNull();
    expect(s.error).toMatchObject({ code: 'BAD_INPUT', details: { column: 'answer' } });
    expect(s.columns).toEqual(['q', 'a']);
    await s.update({ file: '/data/gone.csv' });
    expect(s.error?.code).toBe('NOT_FOUND');
    expect(s.columns).toBeNull();
    await s.update({ file: FILE });
    expect(s.preview?.rows).toHaveLength(1);
    await s.update(null);
    expect([s.preview, s.error, s.columns]).toEqual([null, null, null]);
  });
});
