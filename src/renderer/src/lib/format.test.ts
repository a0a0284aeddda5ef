import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatPercent } from './format.js';

describe('format', () => {
  it('bytes in decimal units', () => {
    expect([0, 999, 1000, 12_345, 133_466_000, 1.5e9].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '12 kB', '133 MB', '1.5 GB']);
  });
  it('durations rounded for people', () => {
    expect([0.4, 59, 61, 120, 3599, 3600, 5400, Infinity].map(formatDuration)).toEqual(['0 s', '59 s', '1 min 1 s', '2 min', '59 min 59 s', '1 h', '1 h 30 min', 'unknown']);
  });
  it('percent never shows 100% early', () => {
    expect([0, 0.5, 0.999, 1].map(formatPercent)).toEqual(['0%', '50%', '99%', '100%']);
  });
});
