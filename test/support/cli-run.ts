// Running a CLI command in-process and keeping what it printed, as the command tests do.
import type { Out } from '../../src/main/engine/cli/commands/common.js';

/** An Out that keeps each logged and each error line. */
export function sink(): { out: Out; logs: string[]; errors: string[] } {
  const logs: string[] = [];
  const errors: string[] = [];
  return { out: { log: (s: string) => void logs.push(s), error: (s: string) => void errors.push(s) }, logs, errors };
}

/** Runs `cmd` with `args`: its exit code and its stdout and stderr lines joined. */
export async function runCommand(cmd: (args: string[], out: Out) => Promise<number>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const s = sink();
  const code = await cmd(args, s.out);
  return { code, stdout: s.logs.join('\n'), stderr: s.errors.join('\n') };
}
