// Comparisons the model-folder tests make between embeddings from two paths (engine vs
// onnxruntime vs transformers.js), and bf16 weights written as a checkpoint would hold them.

/** The smallest cosine between matching rows of two [N, d] row-major arrays. */
export function minRowCosine(a: Float32Array, b: Float32Array, d: number): number {
  let min = 1;
  for (let r = 0; r < a.length / d; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = r * d; j < (r + 1) * d; j++) [ab, aa, bb] = [ab + a[j] * b[j], aa + a[j] * a[j], bb + b[j] * b[j]];
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}

/** bf16 bits of float32 values (truncated: the tests need exact values, not rounding). */
export const bf16Bits = (f: Float32Array): Uint16Array => Uint16Array.from(new Uint32Array(Float32Array.from(f).buffer), (u) => u >>> 16);

/** What bf16Bits widens back to: the float32 with the low 16 bits cleared. */
export const bf16Widened = (f: Float32Array): Float32Array => new Float32Array(Uint32Array.from(new Uint32Array(Float32Array.from(f).buffer), (u) => u & 0xffff0000).buffer);
