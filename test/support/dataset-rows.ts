// Reading a whole dataset back, and catching the EngineError a call must fail with: what the
// data, mining and workspace tests check after each import or edit.
import { expect } from 'vitest';
import { EngineError } from '../../src/shared/errors.js';
import { type ReadRowsOptions, readDatasetRows } from '../../src/main/engine/data/store.js';
import type { DatasetRow } from '../../src/main/engine/data/types.js';

/** Every row of the dataset folder `dir`, edits applied, in order. */
export async function allRows(dir: string, opts: ReadRowsOptions = {}): Promise<DatasetRow[]> {
  const out: DatasetRow[] = [];
  for await (const r of readDatasetRows(dir, opts)) out.push(r);
  return out;
}

/** The EngineError `p` rejects with; the test fails if it resolves or rejects with anything else. */
export async function engineError(p: Promise<unknown>): Promise<EngineError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}
