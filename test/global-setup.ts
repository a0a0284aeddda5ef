// Integration tests start the engine host as a real worker thread, which runs compiled
// JavaScript from dist/. Rebuild it when any engine or shared source is newer than the build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const stamp = (() => {
    try {
      return statSync('dist/main/engine/cli/main.js').mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (Math.max(newest('src/main/engine'), newest('src/shared')) > stamp) {
    // tsc emits despite type errors; those fail `npm run typecheck`, not every test here.
    spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.cli.json'], { stdio: 'inherit' });
  }
}
