// WebGPU in tests: probe once per file, and a test that fails when there is no adapter, so a
// machine without one says so instead of silently skipping the WebGPU cases.
import { expect, it } from 'vitest';
import { probeDevice } from '../../src/main/engine/runtime/device.js';

/** Probes WebGPU and registers the adapter test (EMBEDSMITH_NO_WEBGPU=1 skips it on purpose); the probe decides describe.skipIf. */
export async function probeWebgpu(): Promise<Awaited<ReturnType<typeof probeDevice>>> {
  const probe = await probeDevice('webgpu');
  it('has a WebGPU adapter (CI installs lavapipe: .ci/gpu-deps.sh; EMBEDSMITH_NO_WEBGPU=1 skips on purpose)', () => {
    if (!probe.ok && process.env.EMBEDSMITH_NO_WEBGPU === '1') return;
    expect(probe.ok, `WebGPU probe failed: ${probe.error}. Fix: ${probe.fix}`).toBe(true);
  });
  return probe;
}
