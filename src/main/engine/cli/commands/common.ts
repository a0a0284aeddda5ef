// What the command files share: the output sink, option parsing that reports as usage
// errors, and the exit code an error maps to (DESIGN §6: 0 success, 1 failure, 2 bad usage or
// bad input) — the same mapping as cli/main.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EngineError } from '../../../../shared/errors.js';
import { explainFsError } from '../../workspace/fs-errors.js';
import { PRECISION_CHOICES, type PrecisionChoice } from '../../../../shared/jobs.js';

export type Out = { log: (s: string) => void; error: (s: string) => void };

/** A command-line mistake: exit 2 with the message and the usage line. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true }>>['values'];

export function parseOptions<T extends Options>(args: string[], options: T): Values<T> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Values<T>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A positive integer option, or a usage error naming it. */
export function intOption(name: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

/** --precision fp32|fp16|auto (default fp32), or a usage error. */
export function precisionOption(value: string | undefined): PrecisionChoice {
  const p = value ?? 'fp32';
  if (!(PRECISION_CHOICES as readonly string[]).includes(p)) throw new UsageError(`--precision must be ${PRECISION_CHOICES.join(', ')}, got '${p}'`);
  return p as PrecisionChoice;
}

/** Prints `err` for command `cmd` and returns its exit code. */
export function reportError(cmd: string, usage: string, err: unknown, out: Out): number {
  if (err instanceof UsageError) {
    out.error(`embedsmith ${cmd}: ${err.message}\n${usage}`);
    return 2;
  }
  const known = explainFsError(err);
  const e = known instanceof EngineError ? known : new EngineError('INTERNAL', err instanceof Error ? err.message : String(err));
  out.error(`embedsmith ${cmd}: ${e.message}`);
  return ['BAD_INPUT', 'NOT_FOUND', 'ALREADY_EXISTS', 'SCHEMA'].includes(e.code) ? 2 : 1;
}
