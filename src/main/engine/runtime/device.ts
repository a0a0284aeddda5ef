// Device selection (DESIGN §4): probe each execution provider with a tiny session
// (create + run + check the answer), once per process, and pick cuda → webgpu → cpu for
// 'auto'. An explicit device that does not work is an error naming the device, what failed
// and how to fix it, never a silent fall back to the CPU.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { shortReason } from './probe-text.js';
import { type Device, DEVICES, createSession, providerBundled } from './session.js';

export type DevicePref = Device | 'auto';
export const AUTO_ORDER: readonly Device[] = ['cuda', 'webgpu', 'cpu'];

export interface DeviceAttempt {
  device: Device;
  ok: boolean;
  /** What failed, when !ok: one short sentence. */
  error?: string;
  /** The raw text behind `error` (onnxruntime's message, the graphics stack's stderr), for --verbose. */
  detail?: string;
  /** How to make it work, when !ok. */
  fix?: string;
  /** Probe wall time: session create + first run (includes WebGPU shader compilation). */
  ms?: number;
}

export interface DeviceChoice {
  device: Device;
  /** One sentence for logs and the UI: why this device. */
  reason: string;
  tried: DeviceAttempt[];
}

const FIX: Record<Device, string> = {
  cpu: 'reinstall onnxruntime-node (npm ci); the CPU provider is part of every build',
  webgpu:
    process.platform === 'linux'
      ? 'install a Vulkan loader and driver: libvulkan1 plus your GPU driver (NVIDIA: also libglvnd0 libegl1 libgl1 ' +
        'libglx0 libgles2 libopengl0, and VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json); without a GPU, ' +
        "Mesa >= 24 lavapipe (mesa-vulkan-drivers, see .ci/gpu-deps.sh) with VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json; or use --device cpu"
      : 'update the graphics driver (WebGPU needs Metal on macOS, D3D12 on Windows); or use --device cpu',
  cuda:
    'reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (needs the network, an NVIDIA driver, CUDA 12 ' +
    'and cuDNN 9 on the library path); or use --device webgpu / cpu',
};

/** Where onnxruntime-node keeps its native binding and, once downloaded, the CUDA provider. */
function bindingDirs(): string[] {
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
    return readdirSync(root)
      .filter((napi) => napi.startsWith('napi-'))
      .map((napi) => join(root, napi, process.platform, process.arch));
  } catch {
    return [];
  }
}

/** Why the CUDA provider cannot even be tried, or null when its library is present. */
function cudaMissing(): string | null {
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (process.platform === 'darwin') return 'onnxruntime has no CUDA provider for macOS';
  const dirs = bindingDirs();
  if (dirs.some((d) => existsSync(join(d, lib)))) return null;
  // Trying anyway would only print onnxruntime's "Failed to load library" error to stderr.
  return `the CUDA provider is not bundled with onnxruntime-node and was not downloaded (no ${lib} in ${dirs.join(', ') || 'the package'})`;
}

async function probe(device: Device): Promise<DeviceAttempt> {
  const fail = (error: string, detail?: string): DeviceAttempt => ({ device, ok: false, error, fix: FIX[device], ...(detail ? { detail } : {}) });
  if (device === 'cuda') {
    const missing = cudaMissing();
    if (missing) return fail(missing.replace(/ \(no .*\)$/, ''), missing);
  } else if (!providerBundled(device)) {
    return fail(`this onnxruntime-node build has no ${device} provider for ${process.platform}-${process.arch}`);
  }
  // y = 2x + 1 on four values: small enough to be instant, and checking the answer catches
  // a provider that starts but computes garbage (e.g. a broken software driver).
  const g = new Graph('device-probe');
  g.output(o.add(o.mul(g.input('x', 'float32', [4]), 2), 1), 'y');
  const t0 = performance.now();
  let session;
  try {
    session = await createSession(serialize(g), { device, threads: 1, logLevel: 'fatal' });
  } catch (err) {
    const raw = (err as Error).message;
    return fail(`the ${device} provider did not start: ${shortReason(raw)}`, raw);
  }
  try {
    const out = await session.run({ x: { dtype: 'float32', shape: [4], data: new Float32Array([0, 1, -2, 0.5]) } });
    const got = Array.from(out.y.data as Float32Array);
    const want = [1, 3, -3, 2];
    if (got.some((v, i) => v !== want[i])) return fail(`probe computed [${got.join(', ')}] instead of [${want.join(', ')}]`);
    return { device, ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const raw = (err as Error).message;
    return fail(`the ${device} probe failed: ${shortReason(raw)}`, raw);
  } finally {
    await session.release();
  }
}

/**
 * The WebGPU probe (and, for auto, its speed check) as this process runs it; the child below
 * calls this. Exported for that child only.
 */
export async function probeWebgpuHere(withSpeed: boolean): Promise<{ attempt: DeviceAttempt; speed: SpeedCheck | null }> {
  const attempt = await probe('webgpu');
  return { attempt, speed: attempt.ok && withSpeed ? { gpuMs: await timeMatmul('webgpu'), cpuMs: await timeMatmul('cpu') } : null };
}

/**
 * Starting WebGPU makes the Vulkan loader and Dawn write warnings straight to file descriptor 2
 * (a loader warning and ~600 characters of Dawn error on every command, where no GPU driver is
 * found), which no JavaScript can catch. So the probe runs in a child process: its stderr is
 * kept as the attempt's detail (shown with --verbose), and a crash there cannot take this
 * process down. Under a TypeScript test runner the module cannot be re-imported by a plain
 * node child, so the probe runs here.
 */
async function probeWebgpuIsolated(withSpeed: boolean): Promise<{ attempt: DeviceAttempt; speed: SpeedCheck | null }> {
  if (!import.meta.url.endsWith('.js') || process.env.EMBEDSMITH_PROBE_INLINE) return probeWebgpuHere(withSpeed);
  const code = `const d = await import(${JSON.stringify(import.meta.url)}); process.stdout.write(JSON.stringify(await d.probeWebgpuHere(${withSpeed})));`;
  return new Promise((done) => {
    // ELECTRON_RUN_AS_NODE: inside the app, process.execPath is Electron's binary.
    execFile(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 120_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const noise = stderr.trim();
      try {
        const r = JSON.parse(stdout) as { attempt: DeviceAttempt; speed: SpeedCheck | null };
        if (!r.attempt.ok) {
          const raw = [r.attempt.detail ?? r.attempt.error ?? '', noise].filter(Boolean).join('\n');
          r.attempt = { ...r.attempt, error: `the webgpu provider did not start: ${shortReason(raw)}`, detail: raw };
        } else if (noise) r.attempt.detail = noise;
        done(r);
      } catch {
        const how = err && 'signal' in err && err.signal ? `was killed by ${err.signal}` : `exited with ${err && 'code' in err ? String(err.code) : 'no answer'}`;
        const raw = [noise, stdout].filter(Boolean).join('\n');
        done({ attempt: { device: 'webgpu', ok: false, error: `the webgpu probe process ${how}${raw ? `: ${shortReason(raw)}` : ''}`, fix: FIX.webgpu, detail: raw }, speed: null });
      }
    });
  });
}

/** Best-of-3 times of one 1024³ float32 matmul (2.1 GFLOP) per device, inputs made on the device. */
export interface SpeedCheck {
  gpuMs: number;
  cpuMs: number;
}

/** Auto's rule: WebGPU only when it beats the CPU on the check's matmul. */
export function gpuIsFaster(s: SpeedCheck): boolean {
  return s.gpuMs < s.cpuMs;
}

async function timeMatmul(device: Device): Promise<number> {
  // The operands are expanded from [1024] rows on the device and the product summed to one
  // number, so uploads and read-back are a few KB: the time is the matmul, not the bus.
  const g = new Graph('speed-check');
  const row = g.input('row', 'float32', [1, 1024]);
  const m = o.expand(row, [1024, 1024]);
  g.output(o.reduceSum(o.matmul(m, o.transpose(m, [1, 0]))), 'sum');
  const session = await createSession(serialize(g), { device, logLevel: 'fatal' });
  try {
    const feeds = { row: { dtype: 'float32' as const, shape: [1, 1024], data: new Float32Array(1024).fill(0.01) } };
    await session.run(feeds); // warm-up: shader compilation, allocations
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  } finally {
    await session.release();
  }
}

let speed: Promise<SpeedCheck | null> | null = null;
/** The WebGPU-vs-CPU check, once per process (with the probe, in its child process). */
function webgpuSpeed(): Promise<SpeedCheck | null> {
  speed ??= probeWebgpuIsolated(true).then((r) => {
    // The probe with the check answers the probe too: no second child for it.
    if (!probes.has('webgpu')) probes.set('webgpu', Promise.resolve(r.attempt));
    return r.speed;
  });
  return speed;
}

const probes = new Map<Device, Promise<DeviceAttempt>>();

/** The probe result for `device`, computed once per process (a driver does not appear mid-run). */
export function probeDevice(device: Device): Promise<DeviceAttempt> {
  let p = probes.get(device);
  if (!p) {
    p = device === 'webgpu' ? probeWebgpuIsolated(false).then((r) => r.attempt) : probe(device);
    probes.set(device, p);
  }
  return p;
}

/** Forgets cached probes (tests that change the environment). */
export function clearProbeCache(): void {
  probes.clear();
  speed = null;
}

export async function selectDevice(pref: DevicePref = 'auto'): Promise<DeviceChoice> {
  if (pref !== 'auto' && !DEVICES.includes(pref)) {
    throw new EngineError('BAD_INPUT', `device '${String(pref)}' is not one of: auto, ${DEVICES.join(', ')}`, {
      device: pref,
    });
  }
  if (pref !== 'auto') {
    const attempt = await probeDevice(pref);
    if (!attempt.ok) {
      throw new EngineError(
        'UNSUPPORTED',
        `device '${pref}' is not usable here: ${attempt.error}. Fix: ${attempt.fix}`,
        { device: pref, error: attempt.error, fix: attempt.fix, tried: [attempt] },
      );
    }
    return { device: pref, reason: `${pref} was asked for and works (probe ${attempt.ms} ms)`, tried: [attempt] };
  }
  const tried: DeviceAttempt[] = [];
  for (const device of AUTO_ORDER) {
    // WebGPU's probe and speed check come from one child process (probeWebgpuIsolated).
    const speed = device === 'webgpu' && !probes.has('webgpu') ? await webgpuSpeed() : null;
    let attempt = await probeDevice(device);
    if (attempt.ok && device === 'webgpu') {
      // A software Vulkan driver (Mesa's lavapipe, which CI and many Linux boxes install) makes
      // WebGPU "work" at a fraction of the CPU's speed: auto takes it only when it is faster.
      const checked = speed ?? (await webgpuSpeed()) ?? (await probeWebgpuHere(true)).speed!;
      if (!gpuIsFaster(checked)) {
        attempt = {
          device, ok: false,
          error: `webgpu works but is slower than the CPU here (${checked.gpuMs.toFixed(1)} ms vs ${checked.cpuMs.toFixed(1)} ms for a 2 GFLOP matmul; a software adapter such as lavapipe?)`,
          fix: 'use --device webgpu to run on it anyway, or install the GPU vendor\'s Vulkan driver',
        };
      }
    }
    tried.push(attempt);
    if (attempt.ok) {
      // EMBEDSMITH_VERBOSE (the CLI's --verbose): the raw text behind each short reason too.
      const verbose = !!process.env.EMBEDSMITH_VERBOSE;
      const skipped = tried.filter((a) => !a.ok).map((a) => `${a.device}: ${a.error}${verbose && a.detail ? ` [${a.detail.trim().replace(/\s*\n\s*/g, ' | ')}]` : ''}`);
      const reason = skipped.length
        ? `auto picked ${device}; ${skipped.join('; ')}`
        : `auto picked ${device}, the first of ${AUTO_ORDER.join(' → ')} that works`;
      return { device, reason, tried };
    }
  }
  throw new EngineError(
    'UNSUPPORTED',
    `no execution provider works, not even the CPU: ${tried.map((a) => `${a.device}: ${a.error}`).join('; ')}. Fix: ${FIX.cpu}`,
    { tried },
  );
}
