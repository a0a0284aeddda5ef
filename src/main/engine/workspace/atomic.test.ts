import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { atomicWriteFaults, isAtomicTempName, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { createProject, openProject } from './project.js';
import { EngineError } from '../../../shared/errors.js';

const SRC = fileURLToPath(new URL('../../../', import.meta.url)); // .../src/
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-atomic-'));
});
afterEach(async () => {
  atomicWriteFaults.afterChunk = undefined;
  atomicWriteFaults.beforeRename = undefined;
  await rm(tmp, { recursive: true, force: true });
});

const OLD = { schemaVersion: 1, name: 'Old name', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
/** A project.json-shaped payload of about `mib` MiB, so writing it takes several chunks. */
function bigPayload(mib: number, tag: string): string {
  return JSON.stringify({ ...OLD, name: tag, padding: 'x'.repeat(mib * 1024 * 1024) });
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving no temp files', async () => {
    const file = join(tmp, 'a.json');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, new TextEncoder().encode('second'));
    expect(await readFile(file, 'utf8')).toBe('second');
    expect(await readdir(tmp)).toEqual(['a.json']);
  });

  it('writeJsonAtomic writes parseable JSON ending in a newline', async () => {
    const file = join(tmp, 'v.json');
    await writeJsonAtomic(file, { a: [1, 'ü'], b: null });
    const text = await readFile(file, 'utf8');
    expect(JSON.parse(text)).toEqual({ a: [1, 'ü'], b: null });
    expect(text.endsWith('\n')).toBe(true);
  });

  it('a write failing mid-file leaves the old file intact and removes the temp file', async () => {
    const file = join(tmp, 'project.json');
    await writeJsonAtomic(file, OLD);
    let seenTemp = '';
    atomicWriteFaults.afterChunk = (temp, written, total) => {
      seenTemp = temp;
      if (written < total) throw new Error('disk on fire');
    };
    const err = await writeFileAtomic(file, bigPayload(3, 'New')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('IO');
    expect((err as EngineError).message).toContain(file);
    expect((err as EngineError).message).toContain('disk on fire');
    expect(seenTemp).not.toBe(file);
    expect(dirname(seenTemp)).toBe(tmp); // same folder: rename stays atomic
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(OLD);
    expect(await readdir(tmp)).toEqual(['project.json']);
  });

  it('a failure just before the rename leaves the old file intact and removes the temp file', async () => {
    const file = join(tmp, 'project.json');
    await writeJsonAtomic(file, OLD);
    atomicWriteFaults.beforeRename = async (temp) => {
      // The complete new content exists only under the temp name at this point.
      expect(JSON.parse(await readFile(temp, 'utf8')).name).toBe('New');
      throw new Error('power cut');
    };
    await expect(writeFileAtomic(file, bigPayload(2, 'New'))).rejects.toMatchObject({ code: 'IO' });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(OLD);
    expect(await readdir(tmp)).toEqual(['project.json']);
  });

  it('a rename the OS refuses (target is a folder) fails with IO and cleans up', async () => {
    const target = join(tmp, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toMatchObject({ code: 'IO' });
    expect(await readdir(tmp)).toEqual(['taken']);
  });

  it('names temp files so that they are recognisable and never the target name', () => {
    expect(isAtomicTempName('.project.json.0123456789ab.tmp')).toBe(true);
    expect(isAtomicTempName('project.json')).toBe(false);
    expect(isAtomicTempName('.project.json.tmp')).toBe(false);
  });
});

/**
 * Compiles atomic.ts (and the error module it imports) to plain JS in `out`, keeping the
 * src/ layout, so a child `node` can run the real code: Node 20 cannot strip TS types.
 */
async function compileAtomicFor(out: string): Promise<string> {
  for (const rel of ['shared/errors.ts', 'main/engine/workspace/fs-errors.ts', 'main/engine/workspace/atomic.ts']) {
    const js = ts.transpileModule(await readFile(join(SRC, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await mkdir(dirname(join(out, rel)), { recursive: true });
    await writeFile(join(out, rel.replace(/\.ts$/, '.js')), js);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  return join(out, 'main/engine/workspace/atomic.js');
}

/** Runs `script` (ESM) in a child node; resolves with its exit signal once it has exited. */
function runChild(script: string, onStdout?: (text: string, kill: () => void) => void) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => onStdout?.(String(d), () => child.kill('SIGKILL')));
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stderr })),
  );
}

describe('a process killed in the middle of a save', () => {
  it('SIGKILL mid-file keeps the old project.json, and opening the project clears the leftover', async () => {
    const dir = join(tmp, 'proj');
    const project = await createProject(dir, 'Old name');
    await project.close();
    const before = await readFile(join(dir, 'project.json'), 'utf8');
    const atomicJs = await compileAtomicFor(join(tmp, 'build'));
    // The child kills itself (SIGKILL: no cleanup, no finally) after the first 1 MiB chunk
    // of an 8 MiB save has landed, i.e. truly mid-write.
    const script = `
      import { atomicWriteFaults, writeFileAtomic } from ${JSON.stringify(atomicJs)};
      atomicWriteFaults.afterChunk = (temp, written, total) => {
        if (written < total) { console.log(temp); process.kill(process.pid, 'SIGKILL'); }
      };
      const payload = JSON.stringify({ name: 'New', padding: 'x'.repeat(8 * 1024 * 1024) });
      await writeFileAtomic(${JSON.stringify(join(dir, 'project.json'))}, payload);
      console.log('finished');`;
    let out = '';
    const result = await runChild(script, (t) => (out += t));
    expect(result.stderr).toBe('');
    expect(result.signal).toBe('SIGKILL');
    expect(out).not.toContain('finished');
    const temp = out.trim();
    expect(dirname(temp)).toBe(dir);
    // The torn temp file is there, partial and not valid JSON …
    const tornSize = (await stat(temp)).size;
    expect(tornSize).toBeGreaterThan(0);
    expect(tornSize).toBeLessThan(8 * 1024 * 1024);
    // … but project.json is the old file, byte for byte.
    expect(await readFile(join(dir, 'project.json'), 'utf8')).toBe(before);
    const reopened = await openProject(dir);
    expect(reopened.info.name).toBe('Old name');
    expect(reopened.notes.join(' ')).toMatch(/Removed 1 temp file/);
    expect((await readdir(dir)).filter(isAtomicTempName)).toEqual([]);
    await reopened.close();
  });

  it('readers during repeated saves, and the file after a SIGKILL at an arbitrary moment, see whole versions', async () => {
    const file = join(tmp, 'project.json');
    await writeJsonAtomic(file, OLD);
    const atomicJs = await compileAtomicFor(join(tmp, 'build'));
    // No fault hooks here: the child saves 16 MiB versions in a loop while this process keeps
    // reading the file, then kills the child from outside wherever it happens to be.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(atomicJs)};
      const pad = 'x'.repeat(16 * 1024 * 1024);
      for (let v = 1; ; v++) {
        const p = writeFileAtomic(${JSON.stringify(file)}, JSON.stringify({ version: v, pad }));
        if (v === 1) console.log('writing');
        await p;
      }`;
    const versions = new Set<number>();
    const check = async (): Promise<void> => {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { version?: number; pad?: string };
      if (parsed.version === undefined) expect(parsed).toEqual(OLD);
      else {
        expect(parsed.pad?.length).toBe(16 * 1024 * 1024);
        versions.add(parsed.version);
      }
    };
    let reading: Promise<void> = Promise.resolve();
    const result = await runChild(script, (t, kill) => {
      if (!t.includes('writing')) return;
      reading = (async () => {
        // Until a few versions have gone by (a slow disk gets more time), then kill.
        const end = Date.now() + 10_000;
        try {
          while (Date.now() < end && versions.size < 4) await check();
        } finally {
          kill();
        }
      })();
    });
    await reading;
    expect(result.signal).toBe('SIGKILL');
    expect(versions.size).toBeGreaterThan(1); // the reads really overlapped several saves
    await check();
  });
});
