// One writer at a time, and writes that never destroy (issue 14), checked as a user meets them:
// real concurrent processes of the built CLI (`node bin/embedsmith.js`), real lock files.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODEL = 'resources/demo/base-model';
let tmp: string;
let data: string;
const children: ChildProcess[] = [];

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(...args: string[]): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, ['bin/embedsmith.js', ...args], { env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'state') } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Done>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done };
}
const cli = (...args: string[]) => start(...args).done;

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-writers-'));
  const rows = Array.from({ length: 24 }, (_, i) => `question ${i} about topic ${i % 5},answer ${i} explains topic ${i % 5} in words`);
  await writeFile(join(tmp, 'pairs.csv'), 'anchor,positive\n' + rows.join('\n') + '\n');
  data = join(tmp, 'ds');
  const r = await cli('import', join(tmp, 'pairs.csv'), '--out', data);
  expect(r.code).toBe(0);
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('one writer at a time', () => {
  it('six concurrent `dataset edit --add` all land, each with its own id and row', async () => {
    const runs = Array.from({ length: 6 }, (_, i) => cli('dataset', 'edit', data, '--add', JSON.stringify({ anchor: `added ${i}`, positive: `text ${i}` }), '--json'));
    const results = await Promise.all(runs);
    for (const r of results) expect([r.code, r.stderr]).toEqual([0, '']);
    const entries = results.map((r) => JSON.parse(r.stdout) as { id: number; index: number; after: { anchor: string } });
    expect(entries.map((e) => e.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(entries.map((e) => e.index)).size).toBe(6);
    const journal = (await readFile(join(data, 'edits.jsonl'), 'utf8')).trim().split('\n');
    expect(journal).toHaveLength(6);
    expect(journal.map((l) => (JSON.parse(l) as { after: { anchor: string } }).after.anchor).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `added ${i}`));
    expect(existsSync(join(data, 'dataset.lock'))).toBe(false);
  }, 120_000);

  it('a second training into a busy run folder is refused naming the first; once that one is killed its lock is stale', async () => {
    const run = join(tmp, 'run');
    const args = ['train', '--model', MODEL, '--data', data, '--out', run, '--max-steps', '100000', '--batch-size', '4', '--max-length', '16', '--threads', '1', '--device', 'cpu'];
    const first = start(...args);
    await until('the first run to start', () => existsSync(join(run, 'run.lock')) && existsSync(join(run, 'config.json')));
    const second = await cli(...args);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`The run folder ${run} is in use by embedsmith CLI (pid ${first.child.pid} on ${hostname()}, running \`embedsmith train`);
    expect(second.stderr).toContain(`delete ${join(run, 'run.lock')}`);
    expect(first.child.exitCode).toBeNull(); // the first one never noticed
    first.child.kill('SIGKILL');
    await first.done;
    // The lock it left names a dead process: the next writer takes it over and says so.
    const third = await cli(...args);
    expect(third.stderr).toContain(`Took over a stale lock on ${run}: embedsmith CLI (pid ${first.child.pid}`);
    expect(third.stderr).toContain('already holds a run; continue it with --resume'); // past the lock, to the run's own check
    expect(third.code).toBe(2);
  }, 180_000);

  it('the CLI honours project.lock: refused while the app holds the project, a garbage lock is taken over', async () => {
    const project = join(tmp, 'proj');
    expect((await cli('project', 'create', project, '--name', 'P')).code).toBe(0);
    const ds = join(project, 'datasets', 'd');
    expect((await cli('import', join(tmp, 'pairs.csv'), '--out', ds)).code).toBe(0);
    const lockPath = join(project, 'project.lock');
    // The desktop app holding the project: a live process with its lock.
    const app = spawn(process.execPath, ['-e', `require('node:fs').writeFileSync(process.argv[1], JSON.stringify({ pid: process.pid, hostname: require('node:os').hostname(), holder: 'Embedsmith desktop', since: '2026-12-06T10:00:00.000Z' })); console.log('ready'); setInterval(() => {}, 1000);`, lockPath]);
    children.push(app);
    await new Promise<void>((res) => app.stdout!.on('data', () => res()));
    const refused = await cli('dataset', 'edit', ds, '--add', '{"anchor": "a", "positive": "b"}');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The project ${project} is open in Embedsmith desktop (pid ${app.pid} on ${hostname()}, since 2026-12-06T10:00:00.000Z)`);
    expect(refused.stderr).toContain('Fix: close the project there');
    expect(existsSync(join(ds, 'edits.jsonl'))).toBe(false);
    app.kill('SIGKILL');
    // A crash while the lock was created leaves it empty: stale, not a block until deleted by hand.
    await writeFile(lockPath, '');
    const ok = await cli('dataset', 'edit', ds, '--add', '{"anchor": "a", "positive": "b"}');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`Took over a stale lock on ${project}: an empty or unreadable lock file`);
    expect(existsSync(lockPath)).toBe(false); // released at the end of the command
  }, 120_000);
});

describe('writes never destroy', () => {
  it('export --out onto an existing file, and dataset export into its own dataset, are refused (exit 2) and touch nothing', async () => {
    const notes = join(tmp, 'notes.txt');
    await writeFile(notes, 'precious\n');
    const ex = await cli('export', '--model', MODEL, '--out', notes, '--format', 'sentence-transformers');
    expect(ex.code).toBe(2);
    expect(ex.stderr).toContain(`--out ${notes} is an existing file`);
    expect(await readFile(notes, 'utf8')).toBe('precious\n');

    const rows = await readFile(join(data, 'rows.jsonl'));
    const inside = await cli('dataset', 'export', data, '--out', join(data, 'rows.jsonl'));
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(`lies inside the dataset ${data}`);
    expect(await readFile(join(data, 'rows.jsonl'))).toEqual(rows);
  }, 60_000);

  it('a command sweeps temp leftovers older than a day beside and inside its --out, says so, and keeps younger ones', async () => {
    const run = join(tmp, 'swept');
    await mkdir(join(run, 'checkpoints', '.step-5.0123abcd.tmp'), { recursive: true });
    await mkdir(join(run, '.model.0123456789ab.tmp'));
    await writeFile(join(run, 'metrics.jsonl.89abcdef.tmp'), '{}');
    await writeFile(join(run, '.config.json.0123456789ab.tmp'), '{}'); // young: may be a live writer's
    await mkdir(join(run, '.model.fedcba987654.tmp.old')); // the only copy of model/ after a kill between renames
    await writeFile(join(run, '.model.fedcba987654.tmp.old', 'config.json'), '{}');
    const dayAndABit = new Date(Date.now() - 25 * 3600 * 1000);
    for (const p of ['checkpoints/.step-5.0123abcd.tmp', '.model.0123456789ab.tmp', 'metrics.jsonl.89abcdef.tmp', '.model.fedcba987654.tmp.old/config.json', '.model.fedcba987654.tmp.old']) {
      await utimes(join(run, p), dayAndABit, dayAndABit);
    }
    const r = await cli('dataset', 'export', data, '--out', join(run, 'rows.jsonl'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('removed 3 temp leftover(s) of interrupted writes, older than a day');
    expect(r.stderr).toContain(join(run, 'checkpoints', '.step-5.0123abcd.tmp'));
    expect(r.stderr).toContain(`restored 1 model folder(s) an interrupted save had moved aside: ${join(run, 'model')}`);
    expect(existsSync(join(run, '.model.0123456789ab.tmp'))).toBe(false);
    expect(existsSync(join(run, '.config.json.0123456789ab.tmp'))).toBe(true);
    expect(await readFile(join(run, 'model', 'config.json'), 'utf8')).toBe('{}');
    // The export itself landed whole, under its own name only.
    expect((await readFile(join(run, 'rows.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(24 + 6);
  }, 60_000);
});

describe('bounds', () => {
  it.each([
    ['--weight-decay', 'Infinity', /--weight-decay Infinity is out of range: it must be a number in \[0, 10\]; decoupled decay/],
    ['--temperature', 'Infinity', /--temperature Infinity is out of range: it must be a number in \[0\.001, 10\]/],
    ['--lr', 'NaN', /--lr must be a number in \(0, 1\], got 'NaN'/],
    ['--threads', '1000', /--threads 1000 is out of range: it must be a whole number in \[1, \d+\]; more threads than cores only take turns/],
    ['--max-steps', '1e8', /--max-steps 100000000 is out of range: it must be a whole number in \[1, 10000000\]; ten million steps/],
  ])('train %s %s exits 2 naming the setting, the value and the range, and writes nothing', async (flag, value, message) => {
    const run = join(tmp, `bounds${flag}`);
    const r = await cli('train', '--model', MODEL, '--data', data, '--out', run, flag, value);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(run)).toBe(false);
  }, 60_000);
});
