import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from '../../pipeline/engine/backoff.ts';

describe('backoff', () => {
  const noJitter = { ...defaultBackoff, jitter: 0 };

  it('doubles from the base with every attempt', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, noJitter))).toEqual([2000, 4000, 8000, 16000]);
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(backoffDelay(50, noJitter)).toBe(defaultBackoff.capMs);
    expect(backoffDelay(10_000, { ...defaultBackoff, jitter: 1 }, () => 0.999)).toBeLessThanOrEqual(
      defaultBackoff.capMs,
    );
  });

  it('jitters within the documented band', () => {
    // jitter 0.5: half fixed, half drawn at random
    expect(backoffDelay(3, defaultBackoff, () => 0)).toBe(4000);
    expect(backoffDelay(3, defaultBackoff, () => 1)).toBe(8000);
    expect(backoffDelay(3, defaultBackoff, () => 0.5)).toBe(6000);
  });

  it('treats attempt numbers below one as the first retry', () => {
    expect(backoffDelay(0, noJitter)).toBe(2000);
    expect(backoffDelay(-3, noJitter)).toBe(2000);
  });
});
