import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, openProject, type OpenProject } from './project.js';
import { processStartTime } from './lock.js';
import { EngineError } from '../../../shared/api.js';
import { engineError } from '../../../../test/support/dataset-rows.js';

let tmp: string;
let dir: string;
let lockPath: string;
const opened: OpenProject[] = [];
const children: ChildProcess[] = [];
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-lock-'));
  dir = join(tmp, 'proj');
  lockPath = join(dir, 'project.lock');
  await (await createProject(dir, 'Shared')).close();
});
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});
const track = (p: OpenProject): OpenProject => (opened.push(p), p);
const readJson = async (p: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(p, 'utf8'));

async function lockedError(p: Promise<unknown>): Promise<EngineError> {
  const err = await engineError(p);
  expect(err.code).toBe('LOCKED');
  return err;
}

/**
 * A separate live process that takes the lock the way another Embedsmith would (its own pid,
 * this host) and stays alive until killed. Resolves once the lock file is written.
 */
async function otherProcessHoldsLock(holder: string): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs'), os = require('node:os');
    fs.writeFileSync(process.argv[1], JSON.stringify({ pid: process.pid, hostname: os.hostname(),
      holder: process.argv[2], since: new Date().toISOString() }), { flag: 'wx' });
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, lockPath, holder], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && res());
    child.on('exit', (code) => rej(new Error(`lock holder exited early with ${code}`)));
  });
  return child;
}

/** A pid that certainly belonged to a process on this machine and is now gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((res) => child.on('exit', res));
  return child.pid!;
}

describe('project.lock', () => {
  it('a second OpenProject in the same process gets LOCKED naming the holder, pid, host and time', async () => {
    const first = track(await openProject(dir, { holder: 'Embedsmith desktop' }));
    const lock = await readJson(lockPath);
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname(), holder: 'Embedsmith desktop' });
    const err = await lockedError(openProject(dir, { holder: 'embedsmith CLI' }));
    expect(err.message).toContain('Embedsmith desktop');
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain(hostname());
    expect(err.message).toContain(lock.since as string);
    expect(err.message).toContain(lockPath); // the fix: delete it if that program is gone
    // The refused opener must not have disturbed the holder's lock.
    expect(await readJson(lockPath)).toEqual(lock);
    await first.close();
    track(await openProject(dir, { holder: 'embedsmith CLI' }));
    expect((await readJson(lockPath)).holder).toBe('embedsmith CLI');
  });

  it('creating over a folder another creator holds is LOCKED', async () => {
    const fresh = join(tmp, 'fresh');
    const [a, b] = await Promise.allSettled([createProject(fresh, 'A'), createProject(fresh, 'B')]);
    const won = [a, b].filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    track((won[0] as PromiseFulfilledResult<OpenProject>).value);
    const lost = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(['LOCKED', 'ALREADY_EXISTS']).toContain((lost.reason as EngineError).code);
  });

  it('a lock held by another live process is LOCKED; once that process dies the lock is taken over', async () => {
    const child = await otherProcessHoldsLock('Other Embedsmith');
    const err = await lockedError(openProject(dir));
    expect(err.message).toContain('Other Embedsmith');
    expect(err.message).toContain(`pid ${child.pid}`);
    expect(err.details).toMatchObject({ pid: child.pid, holder: 'Other Embedsmith', lockPath });

    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    const p = track(await openProject(dir, { holder: 'Embedsmith desktop' }));
    expect(p.notes.join(' ')).toMatch(new RegExp(`stale lock.*pid ${child.pid}`));
    expect(await readJson(lockPath)).toMatchObject({ pid: process.pid, holder: 'Embedsmith desktop' });
  });

  it('a stale lock (this host, dead pid) is taken over with a note', async () => {
    const pid = await deadPid();
    await writeFile(lockPath, JSON.stringify({ pid, hostname: hostname(), holder: 'Crashed', since: '2026-01-01T00:00:00.000Z' }));
    const p = track(await openProject(dir));
    expect(p.notes[0]).toContain('Crashed');
    expect(p.notes[0]).toContain(`pid ${pid}`);
    expect((await readJson(lockPath)).pid).toBe(process.pid);
    await p.close();
    expect(await stat(lockPath).catch(() => null)).toBeNull();
  });

  it('a lock from another host is never taken over, even if its pid is unused here', async () => {
    const pid = await deadPid();
    const text = JSON.stringify({ pid, hostname: `not-${hostname()}`, holder: 'Laptop', since: '2026-01-01T00:00:00.000Z' });
    await writeFile(lockPath, text);
    const err = await lockedError(openProject(dir));
    expect(err.message).toContain(`not-${hostname()}`);
    expect(await readFile(lockPath, 'utf8')).toBe(text);
  });

  it.each([
    ['empty', ''],
    ['garbage', '{"pid": 12'],
    ['not a lock', '[1, 2, 3]'],
  ])('an %s lock file (a crash while it was created) is taken over as stale, with a note', async (_name, text) => {
    await writeFile(lockPath, text);
    const p = track(await openProject(dir));
    expect(p.notes[0]).toContain('empty or unreadable lock');
    expect((await readJson(lockPath)).pid).toBe(process.pid);
  });

  it.runIf(process.platform === 'linux')('a reused pid (alive, but started at another time) is stale: its start time differs', async () => {
    // Our own pid is certainly alive; a start time it never had says the lock's process is gone.
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, hostname: hostname(), holder: 'Before reboot', since: '2026-01-01T00:00:00.000Z', startTime: '1' }));
    const p = track(await openProject(dir));
    expect(p.notes[0]).toContain('Before reboot');
    expect((await readJson(lockPath)).startTime).toBe(processStartTime(process.pid));
  });

  it('the lock records the holder\'s start time and command line, and the refusal names the command', async () => {
    const first = track(await openProject(dir, { holder: 'Embedsmith desktop' }));
    const lock = await readJson(lockPath);
    if (process.platform === 'linux') expect(lock.startTime).toMatch(/^\d+$/);
    expect(typeof lock.command).toBe('string');
    const err = await lockedError(openProject(dir));
    expect(err.message).toContain(`running \`${lock.command as string}\``);
    await first.close();
  });

  it('close does not delete a lock that another holder has taken since', async () => {
    const p = await openProject(dir);
    await unlink(lockPath); // a user deleted it by hand …
    const other = JSON.stringify({ pid: process.pid, hostname: hostname(), holder: 'Someone else', since: 'now' });
    await writeFile(lockPath, other); // … and another opener took it
    await p.close();
    expect(await readFile(lockPath, 'utf8')).toBe(other);
  });
});
