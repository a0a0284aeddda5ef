// The loss scaler against GradScaler's rule written another way: over a sequence of steps, the
// scale is init · 2^(Σ over maximal runs of clean steps of floor(run / interval)) · 2^-(overflows),
// and the growth tracker is the trailing clean run modulo the interval.

import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../shared/random.js';
import { GRAD_SCALER_DEFAULTS, type LossScalerOptions, initialScalerState, updateScale } from './loss-scaler.js';

function reference(flags: readonly boolean[], o: LossScalerOptions): { scale: number; growthTracker: number } {
  let exponent = 0;
  let run = 0;
  for (const inf of flags) {
    if (inf) {
      exponent += Math.floor(run / o.growthInterval) - 1;
      run = 0;
    } else run++;
  }
  exponent += Math.floor(run / o.growthInterval);
  return { scale: o.initScale * 2 ** exponent, growthTracker: run % o.growthInterval };
}

describe('loss scaler (GradScaler rule)', () => {
  it('starts at 2^16, halves on an overflow, doubles after exactly 2,000 clean steps', () => {
    let s = initialScalerState();
    expect(s).toEqual({ scale: 65536, growthTracker: 0 });
    s = updateScale(s, true);
    expect(s).toEqual({ scale: 32768, growthTracker: 0 });
    for (let i = 0; i < 1999; i++) s = updateScale(s, false);
    expect(s).toEqual({ scale: 32768, growthTracker: 1999 });
    s = updateScale(s, false);
    expect(s).toEqual({ scale: 65536, growthTracker: 0 });
    // An overflow resets the count: 1,999 clean, one overflow, 1,999 clean do not grow.
    for (let i = 0; i < 1999; i++) s = updateScale(s, false);
    s = updateScale(s, true);
    for (let i = 0; i < 1999; i++) s = updateScale(s, false);
    expect(s).toEqual({ scale: 32768, growthTracker: 1999 });
  });

  it('agrees with the closed form over random overflow sequences', () => {
    const random = mulberry32(5);
    for (const interval of [1, 3, 7, GRAD_SCALER_DEFAULTS.growthInterval]) {
      const o = { ...GRAD_SCALER_DEFAULTS, growthInterval: interval };
      for (let trial = 0; trial < (interval > 100 ? 3 : 20); trial++) {
        const p = random() * Math.min(0.3, 3 / interval); // a few overflows a run, so the scale moves both ways
        const flags = Array.from({ length: interval * 5 + Math.floor(random() * 50) }, () => random() < p);
        let s = initialScalerState(o);
        flags.forEach((inf, i) => {
          s = updateScale(s, inf, o);
          if (interval < 100 || i % 97 === 0) expect(s, `interval ${interval}, step ${i}`).toEqual(reference(flags.slice(0, i + 1), o));
        });
        expect(s).toEqual(reference(flags, o));
      }
    }
  });

  it('refuses a corrupt state (a resumed checkpoint with a zero or NaN scale)', () => {
    expect(() => updateScale({ scale: 0, growthTracker: 0 }, false)).toThrow(/loss scaler state/);
    expect(() => updateScale({ scale: NaN, growthTracker: 0 }, false)).toThrow(/loss scaler state/);
    expect(() => updateScale({ scale: 1, growthTracker: 1.5 }, false)).toThrow(/loss scaler state/);
  });
});
