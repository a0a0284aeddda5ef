// A real full disk (a small tmpfs) under a hub download and a CLI export: the messages name
// the file and say the disk is full, instead of a bare "ENOSPC". Mounting needs root on Linux;
// elsewhere these are skipped (train and import on a full disk: train-messages.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../src/main/engine/model/hub.js';
import { startFakeHub, type FakeHub } from './support/fake-hub.js';

const mountPoint = join(tmpdir(), `es-disk-full-${process.pid}`);
const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mkdir', ['-p', mountPoint]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('on a full disk', () => {
  let hub: FakeHub;
  let tmp: string;
  beforeAll(async () => {
    hub = await startFakeHub();
    tmp = await mkdtemp(join(tmpdir(), 'es-disk-full-'));
  });
  afterAll(async () => {
    await hub?.close();
    await rm(tmp, { recursive: true, force: true });
    execFileSync('umount', [mountPoint]);
    execFileSync('rmdir', [mountPoint]);
  });

  it('a hub download names the blob it could not write and does not retry', async () => {
    const cacheDir = join(mountPoint, 'hub');
    const e = (await pullModel({ repo: 'org/model', cacheDir, endpoint: hub.base, token: '', offline: false }).catch((err: unknown) => err)) as { code: string; message: string };
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(new RegExp(`^Could not write ${cacheDir}/\\S+\\.incomplete \\(ENOSPC: .*\\)\\. Fix: the disk is full`));
    expect(hub.requests.filter((r) => r.includes('model.safetensors')).length).toBe(1);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('embedsmith export names the folder and says the disk is full (exit 1)', () => {
    const out = join(mountPoint, 'exported');
    const r = spawnSync(process.execPath, [resolve('bin/embedsmith.js'), 'export', '--model', resolve('resources/demo/base-model'), '--out', out, '--format', 'sentence-transformers'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${mountPoint}/\\S*exported\\S* \\(ENOSPC: .*\\)\\. Fix: the disk is full`));
    expect(r.stderr).not.toMatch(/^embedsmith\S*: ENOSPC/m);
  });
});
