// OS errors become messages that name the path, the code and a fix for that code.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import { explainFsError, ioError, withIo } from './fs-errors.js';

const osError = (code: string, syscall: string, path?: string) =>
  Object.assign(new Error(`${code}: some description, ${syscall}${path ? ` '${path}'` : ''}`), { code, errno: -1, syscall, ...(path ? { path } : {}) });

describe('ioError', () => {
  it.each([
    ['ENOSPC', /disk is full: free space on the disk that holds it/],
    ['EACCES', /you lack the permission: check the owner and mode/],
    ['ELOOP', /symbolic link on the path points back to itself/],
    ['EROFS', /read-only: write somewhere else/],
  ])('%s names the path, the code and its fix', (code, fix) => {
    const e = ioError(osError(code, 'write'), '/data/run/metrics.jsonl', 'append to');
    expect(e).toBeInstanceOf(EngineError);
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(new RegExp(`^Could not append to /data/run/metrics\\.jsonl \\(${code}: some description\\)\\. Fix: `));
    expect(e.message).toMatch(fix);
    expect(e.details).toEqual({ path: '/data/run/metrics.jsonl', osCode: code });
  });

  it('passes an EngineError through unchanged', () => {
    const inner = new EngineError('SCHEMA', 'x');
    expect(ioError(inner, '/p', 'read')).toBe(inner);
  });
});

describe('withIo and explainFsError', () => {
  it('withIo prefers the path the error names, and leaves other errors alone', async () => {
    await expect(withIo('/fallback', 'write', async () => Promise.reject(osError('ENOSPC', 'open', '/real/file')))).rejects.toThrow(/^Could not write \/real\/file \(ENOSPC/);
    await expect(withIo('/fallback', 'write', async () => Promise.reject(osError('ENOSPC', 'write')))).rejects.toThrow(/^Could not write \/fallback \(ENOSPC/);
    const plain = new TypeError('not an OS error');
    await expect(withIo('/p', 'write', async () => Promise.reject(plain))).rejects.toBe(plain);
  });

  it('explainFsError gives a bare OS error its fix, and says when the system named no file', () => {
    const e = explainFsError(osError('ENOSPC', 'write')) as EngineError;
    expect(e.message).toMatch(/^Could not write a file \(the operating system did not say which\) \(ENOSPC.*Fix: the disk is full/);
    const other = new Error('x');
    expect(explainFsError(other)).toBe(other);
  });
});
