// onnxruntime's and the graphics stack's failure text, turned into a short reason. The raw text
// (a C++ source path, a lambda signature, "… was false.", then Dawn's and the Vulkan loader's
// warnings) stays available as the attempt's detail for --verbose; the reason a user reads
// names what is missing in a few words.

/** Known causes, most specific first: [pattern in the raw text, the short reason]. */
const CAUSES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/Failed to open JSON file (\S+)/, (m) => `VK_DRIVER_FILES names a file that does not exist (${m[1]})`],
  [/libvulkan\.so[^\n]*(?:cannot open|No such file|not found)/i, () => 'no Vulkan loader (install libvulkan1)'],
  [/Found no drivers/, () => 'the Vulkan loader found no driver'],
  [/No supported adapters|Failed to get a WebGPU adapter/, () => 'no WebGPU adapter'],
  [/Failed to load library[^\n]*?(lib\S+\.so[.\d]*)/, (m) => `a library failed to load (${m[1]})`],
  [/out of memory|OUT_OF_MEMORY/i, () => 'out of device memory'],
];

/** One short sentence for `raw` (an onnxruntime error message plus any captured stderr). */
export function shortReason(raw: string): string {
  const found = CAUSES.flatMap(([re, say]) => {
    const m = re.exec(raw);
    return m ? [say(m)] : [];
  });
  if (found.length > 0) return [...new Set(found)].slice(0, 2).join('; ');
  // Unknown: onnxruntime's own sentence, without the source path and the failed condition.
  const first = raw.trim().split('\n')[0];
  const sentence = first.replace(/^.*?\bwas false\.\s*/, '').replace(/^\/\S+:\d+\s+\S+\s*/, '').replace(/^\[[^\]]*\]\s*/, '');
  return sentence.length > 160 ? `${sentence.slice(0, 157)}…` : sentence;
}
