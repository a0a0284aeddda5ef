#!/usr/bin/env node
// Launcher for the `embedsmith` command: runs the compiled engine CLI from dist/ (built by
// `npm ci` through the `prepare` script, or `npm run build:node`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/engine/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('embedsmith: the CLI is not built (dist/ is missing). Run `npm run build:node` in the project folder.');
  process.exit(1);
}
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2));
