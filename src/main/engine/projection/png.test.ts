import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PALETTE, UNLABELLED, crc32, encodePng, pixelPositions, renderScatterPng } from './png.js';

interface Chunk {
  type: string;
  data: Buffer;
  crc: number;
  /** type + data, what the CRC covers */
  covered: Buffer;
}

/** Splits a PNG into chunks after checking the 8-byte signature. */
function chunks(png: Buffer): Chunk[] {
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + len), crc: png.readUInt32BE(at + 8 + len), covered: png.subarray(at + 4, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

/** RGB of pixel (x, y): inflate IDAT, skip each row's filter byte (all 0 here). */
function pixel(png: Buffer, x: number, y: number): number[] {
  const cs = chunks(png);
  const width = cs[0].data.readUInt32BE(0);
  const raw = zlib.inflateSync(Buffer.concat(cs.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const row = y * (1 + 3 * width);
  expect(raw[row]).toBe(0);
  return [...raw.subarray(row + 1 + 3 * x, row + 4 + 3 * x)];
}

describe('crc32', () => {
  it('gives the CRC-32 check value for "123456789" (0xCBF43926)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
  });
});

describe('encodePng', () => {
  it('writes signature, IHDR, IDAT, IEND with valid CRCs', () => {
    const png = encodePng(3, 2, new Uint8Array(18).map((_, i) => i * 10));
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = cs[0].data;
    expect(ihdr.length).toBe(13);
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ...ihdr.subarray(8)]).toEqual([3, 2, 8, 2, 0, 0, 0]);
    // Node's own CRC-32 (20.15+, 22.2+) as the independent reference, else ours.
    const ref = typeof zlib.crc32 === 'function' ? (b: Buffer) => zlib.crc32(b) : (b: Buffer) => crc32(b);
    for (const c of cs) expect(c.crc, c.type).toBe(ref(c.covered));
    expect(pixel(png, 2, 1)).toEqual([150, 160, 170]);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => encodePng(3, 2, new Uint8Array(17))).toThrow(/needs 18 bytes, got 17/);
  });
});

describe('renderScatterPng', () => {
  // (0,0) and (1,1) in a 20×10 image, margin 2: box 15×5 px, scale min(15, 5) = 5,
  // x offset 2 + (15 − 5)/2 = 7, y offset 2 → (0,0) at pixel (7, 9−2−0) = (7, 7), (1,1) at (12, 2).
  const points = new Float32Array([0, 0, 1, 1]);

  it('places points by hand-computed pixel positions', () => {
    expect([...pixelPositions(points, 20, 10, 2)]).toEqual([7, 7, 12, 2]);
  });

  it('colours dots by label (sorted labels take the palette in order) on white', () => {
    const png = renderScatterPng(points, ['a', 'b'], { width: 20, height: 10, margin: 2, radius: 1 });
    expect(pixel(png, 7, 7)).toEqual([...PALETTE[0]]);
    expect(pixel(png, 8, 7)).toEqual([...PALETTE[0]]); // 1 px right: inside radius 1
    expect(pixel(png, 8, 8)).toEqual([255, 255, 255]); // diagonal: √2 > 1
    expect(pixel(png, 12, 2)).toEqual([...PALETTE[1]]);
    expect(pixel(png, 0, 0)).toEqual([255, 255, 255]);
  });

  it('draws unlabelled points grey and keeps colours stable by label name', () => {
    const png = renderScatterPng(points, [null, 'b'], { width: 20, height: 10, margin: 2, radius: 1 });
    expect(pixel(png, 7, 7)).toEqual([...UNLABELLED]);
    expect(pixel(png, 12, 2)).toEqual([...PALETTE[0]]);
  });

  it('refuses NaN coordinates and mismatched labels', () => {
    expect(() => renderScatterPng(new Float32Array([0, NaN]))).toThrow(/NaN/);
    expect(() => renderScatterPng(points, ['a'])).toThrow(/1 labels for 2 points/);
  });
});
