import { describe, expect, it } from 'vitest';
import { peakRunners } from './simulation';

/** The rolling budget invariant's base: the peak of this fleet's registered runners in a window. */
describe('peakRunners', () => {
  it('counts the runners registered just before removals made at the window start', () => {
    // 20 runners since t=0; at t=100 a sweep removes 4 and the next invocation samples 16
    const counts = [
      { at: 0, count: 20 },
      { at: 100, count: 16 },
    ];
    expect(peakRunners(counts, 100, 100)).toBe(20);
  });

  it('counts a sample taken inside the window and the one in effect when it opens', () => {
    const counts = [
      { at: 0, count: 5 },
      { at: 50, count: 9 },
      { at: 150, count: 3 },
      { at: 300, count: 12 },
    ];
    expect(peakRunners(counts, 100, 200)).toBe(9);
    expect(peakRunners(counts, 160, 250)).toBe(3);
  });
});
