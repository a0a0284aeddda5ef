#!/usr/bin/env node
// WebGPU smoke check for CI: runs test/fixtures/webgpu-smoke/model.onnx on the WebGPU
// EP and the CPU EP of onnxruntime-node, compares both with the float64 reference and
// checks, from onnxruntime's verbose log, that every node was placed on WebGPU.
//
//   node scripts/webgpu-smoke.cjs            exit 0 = pass, 1 = fail
//
// On a CPU-only Debian 12 machine run .ci/gpu-deps.sh first (lavapipe from
// bookworm-backports) and export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json.
// Plain Node, no build step; onnxruntime-node is resolved from the repository.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fixture = path.join(root, 'test', 'fixtures', 'webgpu-smoke');

async function child() {
  const ort = require(require.resolve('onnxruntime-node', { paths: [root] }));
  const bytes = fs.readFileSync(path.join(fixture, 'model.onnx'));
  const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8'));
  const x = new Float32Array(24).map((_, i) => Math.sin(i));
  const feeds = { x: new ort.Tensor('float32', x, [3, 8]) };
  const want = expected.output.data_float64;
  const maxDiff = (got) => want.reduce((m, w, i) => Math.max(m, Math.abs(w - got[i])), 0);

  const cpu = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const cpuOut = (await cpu.run(feeds)).y.data;
  await cpu.release();

  let t = performance.now();
  // logSeverityLevel 0 + logVerbosityLevel 0: verbose log on stderr, which contains
  // "Node placements" / "All nodes placed on [WebGpuExecutionProvider]".
  const gpu = await ort.InferenceSession.create(bytes, {
    executionProviders: ['webgpu'],
    logSeverityLevel: 0,
    logVerbosityLevel: 0,
  });
  const createMs = performance.now() - t;
  t = performance.now();
  const gpuOut = (await gpu.run(feeds)).y.data;
  const firstRunMs = performance.now() - t;
  t = performance.now();
  await gpu.run(feeds);
  const secondRunMs = performance.now() - t;
  await gpu.release();

  const result = {
    createMs: +createMs.toFixed(1),
    firstRunMs: +firstRunMs.toFixed(1),
    secondRunMs: +secondRunMs.toFixed(2),
    cpuMaxAbsDiff: maxDiff(cpuOut),
    webgpuMaxAbsDiff: maxDiff(gpuOut),
    tolerance: expected.tolerance_abs,
  };
  process.stdout.write('RESULT ' + JSON.stringify(result) + '\n');
}

function parent() {
  const r = spawnSync(process.execPath, [__filename, '--child'], { encoding: 'utf8' });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    process.stderr.write((r.stderr || '').split('\n').filter((l) => !/\[[VI]:onnxruntime/.test(l)).join('\n'));
    console.error(`webgpu-smoke: FAIL (child exit ${r.status}); is a Vulkan driver installed ` +
      `(.ci/gpu-deps.sh) and VK_DRIVER_FILES set?`);
    process.exit(1);
  }
  const res = JSON.parse(line.slice(7));
  const placed = /All nodes placed on \[WebGpuExecutionProvider\]/.test(r.stderr);
  const placementLines = r.stderr.split('\n').filter((l) => /placed on|Node\(s\) placed/.test(l));
  res.allNodesOnWebGpu = placed;
  console.log('webgpu-smoke:', JSON.stringify(res));
  if (!placed) console.log(placementLines.join('\n'));
  const ok = placed && res.cpuMaxAbsDiff <= res.tolerance && res.webgpuMaxAbsDiff <= res.tolerance;
  console.log(ok ? 'webgpu-smoke: PASS' : 'webgpu-smoke: FAIL');
  process.exit(ok ? 0 : 1);
}

if (process.argv[2] === '--child') {
  child().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  });
} else {
  parent();
}
