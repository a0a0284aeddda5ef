// bench/import (issue 5): import a generated pairs CSV of --rows rows (default 1,000,000,
// ~300 MB: ~60-character anchors, ~240-character positives, some quoted with commas and
// newlines) and print rows/s and peak RSS. Target: ≤ 60 s and ≤ 1 GB on a 2-core machine.
//   node dist/main/engine/bench/import.js [--rows N] [--keep]
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importDataset } from '../data/import.js';
import { mulberry32 } from '../data/split.js';

const WORDS = 'the a contract lease tenant landlord notice payment term clause party agreement shall may within days written consent property rent deposit damage repair insurance liability terminate renew period default remedy court law'.split(' ');

async function generate(file: string, rows: number, seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const words = (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
    return out.join(' ');
  };
  const w = createWriteStream(file);
  const write = (s: string) => (w.write(s) ? Promise.resolve() : new Promise<void>((ok) => w.once('drain', ok)));
  await write('anchor,positive\n');
  let batch = '';
  for (let i = 0; i < rows; i++) {
    const anchor = `${words(9)} ${i}?`;
    // Every 10th positive is quoted with a comma and a newline inside, as spreadsheets write them.
    const positive = i % 10 === 0 ? `"${words(18)}, ${words(17)}\n${words(3)}"` : words(38);
    batch += `${anchor},${positive}\n`;
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  await new Promise<void>((ok) => w.end(ok));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
  const rows = Number(values.rows);
  const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
  try {
    const file = join(dir, 'pairs.csv');
    let t = performance.now();
    await generate(file, rows, 42);
    const bytes = (await stat(file)).size;
    console.log(`generated ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const rssBefore = process.resourceUsage().maxRSS;
    t = performance.now();
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const r = await importDataset(file, join(dir, 'dataset'), { onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
    clearInterval(timer);
    const secs = (performance.now() - t) / 1000;
    console.log(`imported ${r.meta.counts.rows} rows (skipped ${r.meta.counts.skipped}, warnings ${r.meta.counts.warnings}) in ${secs.toFixed(1)} s`);
    console.log(`rows/s: ${Math.round(r.meta.counts.sourceRows / secs)}   MB/s: ${(bytes / 1e6 / secs).toFixed(1)}`);
    console.log(`peak RSS during import (sampled): ${(peak / 2 ** 20).toFixed(0)} MiB; process max RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (before import: ${(rssBefore / 1024).toFixed(0)} MiB)`);
    if (values.keep) console.log(`kept ${dir}`);
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
