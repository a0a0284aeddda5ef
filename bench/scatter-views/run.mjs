// Times the Embeddings scatter at 50k and 500k points in headless Chromium: our canvas
// (Scatter.svelte) and, when EMBEDDING_ATLAS names an unpacked `embedding-atlas` package, its
// EmbeddingView. Prints first draw (mount to the second frame) and the median and worst time
// of a zoom step (a new view to the second frame after it: 33 ms is as fast as 60 Hz allows).
// Headless Chromium here has no GPU: the canvas rasterises on the CPU and WebGL runs on
// SwiftShader, so the figures compare the two on the CPU, not on a GPU.
//   EMBEDDING_ATLAS=/path/to/embedding-atlas node bench/scatter-views/run.mjs [50000 500000]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '../../test-results/scatter-bench');
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
await build({ configFile: join(here, 'vite.config.mjs') });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const server = createServer(async (req, res) => {
  const path = join(out, new URL(req.url, 'http://x').pathname.replace(/^\/$/, '/index.html'));
  const body = await readFile(path).catch(() => null);
  if (!body) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
  res.end(body);
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${server.address().port}/`;
// Each view in the Chromium it is best in without a GPU: our 2-D canvas rasterised on the CPU
// (as in the browser tests, --disable-gpu), the WebGL view on SwiftShader (it needs WebGL).
const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browsers = {
  ours: await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] }),
  atlas: await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'] }),
};
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log('view   points   first draw   zoom step median / worst');
for (const n of sizes.length ? sizes : [50_000, 500_000]) {
  for (const view of process.env.EMBEDDING_ATLAS ? ['ours', 'atlas'] : ['ours']) {
    // Three fresh pages each (a shared machine is noisy): medians over the three.
    const firsts = [], steps = [];
    let error = null;
    for (let k = 0; k < 3 && !error; k++) {
      const page = await browsers[view].newPage({ viewport: { width: 800, height: 600 } });
      await page.goto(`${url}?view=${view}&n=${n}`);
      const r = await page.evaluate('window.benchResult');
      if (r.error) error = r.error;
      else {
        firsts.push(r.first);
        steps.push(...r.steps);
      }
      await page.close();
    }
    if (error) console.log(`${view.padEnd(6)} ${String(n).padStart(7)}   failed: ${error.split('\n')[0]}`);
    else console.log(`${view.padEnd(6)} ${String(n).padStart(7)}   ${median(firsts).toFixed(0).padStart(7)} ms   ${median(steps).toFixed(1).padStart(7)} / ${Math.max(...steps).toFixed(1)} ms`);
  }
}
await Promise.all(Object.values(browsers).map((b) => b.close()));
server.close();
