// The `embedsmith` command as a user runs it: the launcher in bin/, the compiled CLI.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/embedsmith.js', ...args], { env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'state') } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('embedsmith CLI', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: embedsmith <command>/);
    expect(r.stdout).toMatch(/serve/);
  });

  it('an unknown command or option is a usage error (exit 2) that names it', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    const s = await cli('serve', '--prot', '80');
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--prot/);
  });

  it('creates a project and reads it back; refuses to create it twice', async () => {
    const dir = join(tmp, 'p1');
    const made = await cli('project', 'create', dir, '--name', 'Support tickets');
    expect(made.code).toBe(0);
    const info = await cli('project', 'info', dir, '--json');
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ name: 'Support tickets', schemaVersion: 1 });
    const again = await cli('project', 'create', dir, '--name', 'Again');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/p1/);
  });

  it('demo refuses to clear a folder that is not a demo workspace', async () => {
    const dir = join(tmp, 'precious');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const r = await cli('demo', '--workspace', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an Embedsmith demo workspace/);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
