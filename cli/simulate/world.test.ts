import { describe, expect, it } from 'vitest';
import { CHAOS_DAY } from '../../bench/chaos-day.bench';
import { ThrottledError } from '../../shared/core/errors';
import { RunnerListingError } from '../../shared/github/errors';
import { GITHUB_SIM, World } from './world';

describe('simulated GitHub runner registry', () => {
  it('pages like GitHub with a small page size, so listings take several pages', async () => {
    const w = new World({ now: 0 }, () => 0.5);
    for (let i = 0; i < 25; i++) w.registry.register({ name: `r-${i}` });
    expect(await w.registry.listRunners()).toHaveLength(25);
    expect(GITHUB_SIM.perPage).toBeLessThanOrEqual(10);
    expect(w.registry.calls.listPages).toBe(Math.ceil(25 / GITHUB_SIM.perPage));
  });

  it('enforces the rate-limit window: spent budget throttles until the window resets', async () => {
    const clock = { now: 0 };
    const w = new World(clock, () => 0.5);
    const r = w.registry.register({ name: 'r' });
    expect(GITHUB_SIM.rateWindowMs).toBeLessThan(3_600_000);
    for (let i = 0; i < GITHUB_SIM.rateLimit; i++) await w.registry.getRunner(r.id);
    await expect(w.registry.getRunner(r.id)).rejects.toBeInstanceOf(ThrottledError);
    await expect(w.registry.listRunners()).rejects.toBeInstanceOf(RunnerListingError);
    expect(w.registry.rateLimited).toBe(2);
    clock.now += GITHUB_SIM.rateWindowMs;
    expect((await w.registry.getRunner(r.id))?.name).toBe('r');
  });

  it("takes another budget when the scenario gives one (chaos day: GitHub's documented 5,000/h)", async () => {
    const w = new World({ now: 0 }, () => 0.5, { requests: 3, windowMs: 60_000 });
    const r = w.registry.register({ name: 'r' });
    for (let i = 0; i < 3; i++) await w.registry.getRunner(r.id);
    await expect(w.registry.getRunner(r.id)).rejects.toBeInstanceOf(ThrottledError);
    expect(CHAOS_DAY.githubRateLimit).toEqual({ requests: 5000, windowMs: 3_600_000 });
  });
});
