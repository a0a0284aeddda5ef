// Command-line flags for the benches (`bench/run.sh NAME --flag value`): plain argv lookups,
// since a bench takes a handful of numbers and prints figures.

/** The value after `--name`, or `fallback` when the flag is absent. */
export function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** `--name` as a positive integer (default `fallback`); anything else is refused. */
export function posInt(name: string, fallback: number): number {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} ${v} must be a positive integer`);
  return v;
}
