// Device selection: explicit devices are probed and either work or fail loudly with a fix;
// 'auto' walks cuda → webgpu → cpu and says why it picked what it picked.

import { describe, expect, it } from 'vitest';
import { AUTO_ORDER, gpuIsFaster, probeDevice, selectDevice } from './device.js';

describe('selectDevice', () => {
  it('auto takes WebGPU only when it beats the CPU', () => {
    expect(gpuIsFaster({ gpuMs: 0.8, cpuMs: 12 })).toBe(true);
    expect(gpuIsFaster({ gpuMs: 330, cpuMs: 21 })).toBe(false);
    expect(gpuIsFaster({ gpuMs: 21, cpuMs: 21 })).toBe(false);
  });

  it('gives the CPU when asked, with the probe it ran', async () => {
    const choice = await selectDevice('cpu');
    expect(choice.device).toBe('cpu');
    expect(choice.tried).toEqual([{ device: 'cpu', ok: true, ms: expect.any(Number) }]);
    expect(choice.reason).toMatch(/^cpu was asked for and works/);
  });

  it("'auto' takes the first working device of cuda → webgpu → cpu and lists what failed", async () => {
    const choice = await selectDevice('auto');
    const order = choice.tried.map((a) => a.device);
    expect(order).toEqual(AUTO_ORDER.slice(0, order.length));
    expect(choice.tried.at(-1)).toMatchObject({ device: choice.device, ok: true });
    for (const failed of choice.tried.slice(0, -1)) {
      expect(failed.ok).toBe(false);
      expect(failed.error).toBeTruthy();
      expect(failed.fix).toBeTruthy();
      expect(choice.reason).toContain(`${failed.device}: ${failed.error}`);
    }
    expect(choice.reason).toContain(`auto picked ${choice.device}`);
  });

  it("'auto' passes over a WebGPU adapter slower than the CPU (CI's lavapipe) and gives the timings", async () => {
    const choice = await selectDevice('auto');
    const webgpu = choice.tried.find((a) => a.device === 'webgpu');
    if (!webgpu || choice.device === 'webgpu') return; // no WebGPU here, or a real GPU that won
    if ((await probeDevice('webgpu')).ok) {
      const m = /slower than the CPU here \(([\d.]+) ms vs ([\d.]+) ms/.exec(webgpu.error ?? '');
      expect(m, webgpu.error).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(Number(m![2]));
      expect(webgpu.fix).toMatch(/--device webgpu/);
    }
  });

  it('fails an explicit device that does not work with the error and a fix (CUDA is not bundled here)', async () => {
    const cuda = await probeDevice('cuda');
    if (cuda.ok) return; // a machine with the CUDA provider installed: nothing to refuse
    expect(cuda.error).toMatch(/CUDA provider is not bundled|no CUDA provider/);
    await expect(selectDevice('cuda')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/^device 'cuda' is not usable here: .*Fix: .*ONNXRUNTIME_NODE_INSTALL=cuda12/),
      details: { device: 'cuda', tried: [cuda] },
    });
  });

  it('rejects an unknown device name and probes each device once per process', async () => {
    await expect(selectDevice('tpu' as 'cpu')).rejects.toMatchObject({ code: 'BAD_INPUT', message: /'tpu' is not one of: auto, cpu, webgpu, cuda/ });
    expect(probeDevice('cpu')).toBe(probeDevice('cpu'));
  });
});
