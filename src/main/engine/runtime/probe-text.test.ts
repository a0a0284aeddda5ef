// Short reasons from the raw text onnxruntime and the graphics stack give (texts as captured
// on this machine with VK_DRIVER_FILES pointing at a missing file).
import { describe, expect, it } from 'vitest';
import { shortReason } from './probe-text.js';

const ORT =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> ' +
  'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
const STDERR =
  'Warning: loader_get_json: Failed to open JSON file /nonexistent.json\nWarning: vkCreateInstance: Found no drivers!\n' +
  'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER\n    at CheckVkSuccessImpl (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/VulkanError.cpp:106)';

describe('shortReason', () => {
  it('names the missing piece, not the C++ source line', () => {
    expect(shortReason(ORT)).toBe('no WebGPU adapter');
    expect(shortReason(`${ORT}\n${STDERR}`)).toBe('VK_DRIVER_FILES names a file that does not exist (/nonexistent.json); the Vulkan loader found no driver');
    expect(shortReason('Warning: vkCreateInstance: Found no drivers!')).toBe('the Vulkan loader found no driver');
  });

  it("an unknown failure keeps onnxruntime's own sentence, without the source path and the failed condition, at most 160 characters", () => {
    expect(shortReason('/onnxruntime_src/x/y.cc:12 f() ok == true was false. The device was lost.')).toBe('The device was lost.');
    expect(shortReason('/onnxruntime_src/x/y.cc:12 SomeFunction() something odd happened')).toBe('something odd happened');
    expect(shortReason('x'.repeat(400))).toHaveLength(158);
  });
});
