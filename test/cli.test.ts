// The `embedsmith` command as a user runs it: the launcher in bin/, the compiled CLI.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from '../src/main/engine/cli/main.js';

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

  it('every command answers --help (and -h) with its own help and exit 0; the top-level help lists embed --max-length', async () => {
    const top = await cli('--help');
    expect(top.stdout).toMatch(/\n {2}embed +--model(?:[^\n]*\n {11})*?[^\n]*\[--max-length N\]/);
    // Every command in-process (one spawn each would take a minute), then the real binary once.
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const logged: string[] = [];
        const code = await runCli([command, flag], { log: (x) => logged.push(x), error: (x) => logged.push(`stderr: ${x}`) });
        const text = logged.join('\n');
        expect(code, `${command} ${flag}: ${text}`).toBe(0);
        expect(text).toMatch(new RegExp(`^Usage: embedsmith ${command} `));
        // Its own entries from the top-level help, and no other command's.
        expect(text).toMatch(new RegExp(`\\n  ${command} `));
        for (const other of COMMANDS.filter((c) => c !== command)) expect(text).not.toMatch(new RegExp(`\\n  ${other} `));
      }
    }
    // After other options too, and for dataset's subcommands.
    const late = await cli('train', '--model', 'x', '--help');
    expect(late.stdout).toMatch(/^Usage: embedsmith train /);
    expect(late.code).toBe(0);
    expect(late.stdout).toMatch(/--max-steps/);
    const sub = await cli('dataset', 'split', '--help');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/dataset split DATASET_DIR/);
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
