// `embedsmith umap --out FILE.png` (DESIGN §6): a scatter plot of a 2-D layout as a PNG (the
// JSON the UI plots is projection-file.ts). The PNG writer is the minimum of the PNG specification
// (ISO/IEC 15948, W3C PNG 2nd ed.): signature, IHDR (8-bit truecolour), one IDAT holding the
// zlib stream (node:zlib) of scanlines each with filter type 0, IEND; each chunk ends with a
// CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320) of its type and data,
// written here because zlib.crc32 only arrived in Node 20.15 and 22.2.
import { deflateSync } from 'node:zlib';
import { EngineError } from '../../../shared/errors.js';

/** matplotlib's tab10: ten colours told apart by most readers; labels past ten repeat them. */
export const PALETTE: readonly [number, number, number][] = [
  [0x1f, 0x77, 0xb4], [0xff, 0x7f, 0x0e], [0x2c, 0xa0, 0x2c], [0xd6, 0x27, 0x28], [0x94, 0x67, 0xbd],
  [0x8c, 0x56, 0x4b], [0xe3, 0x77, 0xc2], [0x7f, 0x7f, 0x7f], [0xbc, 0xbd, 0x22], [0x17, 0xbe, 0xcf],
];
/** Points without a label: a light grey, outside the palette. */
export const UNLABELLED: readonly [number, number, number] = [0xc8, 0xc8, 0xc8];
const BACKGROUND = [0xff, 0xff, 0xff] as const;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG bytes of an 8-bit RGB image; `rgb` is [height, width, 3] row-major. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || rgb.length !== width * height * 3) {
    throw new EngineError('BAD_INPUT', `a ${width}×${height} RGB image needs ${width * height * 3} bytes, got ${rgb.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1); // filter byte 0 (None)
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

export interface ScatterOptions {
  width?: number;
  height?: number;
  /** Dot radius in pixels. */
  radius?: number;
  /** Blank border in pixels. */
  margin?: number;
}

type Label = string | null | undefined;

/** Colour per label: distinct labels sorted, then the palette in order, so a before/after pair of plots agree. */
export function labelColors(labels: readonly Label[]): Map<string, readonly [number, number, number]> {
  const distinct = [...new Set(labels.filter((l): l is string => l !== null && l !== undefined))].sort();
  return new Map(distinct.map((l, i) => [l, PALETTE[i % PALETTE.length]]));
}

/**
 * Where each point lands: one scale for both axes (a round cluster stays round), the layout
 * centred in the [margin, size − 1 − margin] pixel box, y up.
 */
export function pixelPositions(points: Float32Array, width: number, height: number, margin: number): Int32Array {
  const n = points.length / 2;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, points[2 * i]);
    x1 = Math.max(x1, points[2 * i]);
    y0 = Math.min(y0, points[2 * i + 1]);
    y1 = Math.max(y1, points[2 * i + 1]);
  }
  const bw = width - 1 - 2 * margin, bh = height - 1 - 2 * margin;
  const dx = x1 - x0, dy = y1 - y0;
  const s = dx === 0 && dy === 0 ? 0 : Math.min(dx > 0 ? bw / dx : Infinity, dy > 0 ? bh / dy : Infinity);
  const ox = margin + (bw - dx * s) / 2, oy = margin + (bh - dy * s) / 2;
  const out = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = Math.round(ox + (points[2 * i] - x0) * s);
    out[2 * i + 1] = Math.round(height - 1 - oy - (points[2 * i + 1] - y0) * s);
  }
  return out;
}

/** A PNG scatter plot of [n, 2] points coloured by label, drawn in point order. */
export function renderScatterPng(points: Float32Array, labels?: readonly Label[], opts: ScatterOptions = {}): Buffer {
  const { width = 800, height = 800, radius = 2, margin = 10 } = opts;
  const n = points.length / 2;
  if (!Number.isInteger(n) || n === 0) throw new EngineError('BAD_INPUT', `a scatter plot needs [n, 2] points, got ${points.length} values`);
  if (labels && labels.length !== n) throw new EngineError('BAD_INPUT', `${labels.length} labels for ${n} points: give one label per point`);
  if (!points.every(Number.isFinite)) throw new EngineError('BAD_INPUT', 'the layout has NaN or infinite coordinates; re-run the projection');
  if (2 * margin >= Math.min(width, height)) throw new EngineError('BAD_INPUT', `margin ${margin} leaves no room in a ${width}×${height} image`, { setting: 'margin' });
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set(BACKGROUND, i);
  const colors = labelColors(labels ?? []);
  const px = pixelPositions(points, width, height, margin);
  for (let i = 0; i < n; i++) {
    const l = labels?.[i];
    const color = l === null || l === undefined ? UNLABELLED : colors.get(l)!;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const x = px[2 * i] + dx, y = px[2 * i + 1] + dy;
        if (dx * dx + dy * dy <= radius * radius && x >= 0 && x < width && y >= 0 && y < height) rgb.set(color, (y * width + x) * 3);
      }
    }
  }
  return encodePng(width, height, rgb);
}
