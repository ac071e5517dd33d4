import { describe, expect, it } from 'vitest';
import { InMemoryRunnerRegistry } from '../shared/github/in-memory-runner-registry';
import { GitHubLedger, instrumentRegistry, NaiveRunnerListing } from './github-calls';

const MIN = 60_000;

describe('GitHubLedger: every GitHub call of a bench, by function', () => {
  it('counts each request by kind, rate-limited answers included, for the calling function', async () => {
    const now = 0;
    const registry = new InMemoryRunnerRegistry({
      perPage: 10,
      rateLimit: 5,
      rateWindowMs: 60 * MIN,
      now: () => now,
    });
    for (let i = 0; i < 25; i++) registry.register({ name: `r-${i}` });
    const ledger = new GitHubLedger();
    let caller = { fn: 'runner-sweep', invocation: 1, now };
    instrumentRegistry(registry, ledger, () => ({ ...caller, now }));
    await registry.listRunners(); // 3 pages
    caller = { fn: 'runner-job-watch', invocation: 2, now };
    await registry.getRunner(1);
    await registry.deleteRunner(2);
    await expect(registry.getRunner(3)).rejects.toMatchObject({ name: 'ThrottledError' }); // 6th request
    expect(ledger.tally('runner-sweep')).toMatchObject({ listPages: 3, requests: 3, invocations: 1 });
    expect(ledger.tally('runner-job-watch')).toMatchObject({
      get: 1,
      delete: 1,
      rateLimited: 1,
      requests: 3,
      invocations: 1,
    });
    expect(ledger.total().requests).toBe(6);
  });

  it('counts calls that overlap in time once each, for the caller that made them', async () => {
    const registry = new InMemoryRunnerRegistry({ perPage: 10, now: () => 0 });
    for (let i = 0; i < 25; i++) registry.register({ name: `r-${i}` });
    const ledger = new GitHubLedger();
    let caller = { fn: 'runner-sweep', invocation: 1, now: 0 };
    instrumentRegistry(registry, ledger, () => caller);
    // two invocations await the registry at once (the simulator interleaves them)
    const listing = registry.listRunners(); // 3 pages
    caller = { fn: 'runner-drain', invocation: 2, now: 0 };
    const get = registry.getRunner(1);
    await Promise.all([listing, get]);
    expect(ledger.tally('runner-sweep')).toMatchObject({ listPages: 3, get: 0, requests: 3 });
    expect(ledger.tally('runner-drain')).toMatchObject({ listPages: 0, get: 1, requests: 1 });
    expect(ledger.total().requests).toBe(registry.calls.listPages + registry.calls.get);
  });

  it('counts installation tokens between one per function-hour with a call and one per invocation', async () => {
    let now = 0;
    const registry = new InMemoryRunnerRegistry({ now: () => now });
    registry.register({ name: 'r' });
    const ledger = new GitHubLedger();
    let invocation = 0;
    instrumentRegistry(registry, ledger, () => ({ fn: 'runner-job-watch', invocation, now }));
    // 8 invocations over 2 hours, two calls each
    for (let k = 0; k < 8; k++) {
      now = k * 15 * MIN;
      invocation = k + 1;
      await registry.getRunner(1);
      await registry.getRunner(1);
    }
    expect(ledger.tally('runner-job-watch')).toMatchObject({ requests: 16, invocations: 8, tokensHourly: 2 });
  });
});

describe('NaiveRunnerListing: the naive job-watch, run on its own registry', () => {
  it('lists every page of the live runners on each event, mirroring comings and goings', async () => {
    const naive = new NaiveRunnerListing({
      perPage: 10,
      rateLimit: 5000,
      rateWindowMs: 60 * MIN,
      now: () => 0,
    });
    const live = Array.from({ length: 25 }, (_, i) => ({
      id: i + 1,
      name: `r-${i}`,
      os: 'Linux',
      status: 'online' as const,
      busy: false,
      labels: ['self-hosted'],
    }));
    await naive.onEvent(live);
    expect(naive.registry.calls.listPages).toBe(3);
    await naive.onEvent(live.slice(0, 9));
    expect(naive.registry.calls.listPages).toBe(4);
    expect(naive.registry.snapshot().map((r) => r.name)).toEqual(live.slice(0, 9).map((r) => r.name));
  });

  it('a rate-limited listing is counted, not thrown', async () => {
    const naive = new NaiveRunnerListing({ perPage: 10, rateLimit: 2, rateWindowMs: 60 * MIN, now: () => 0 });
    const ledger = new GitHubLedger();
    instrumentRegistry(naive.registry, ledger, () => ({ fn: 'naive', invocation: 1, now: 0 }));
    const live = Array.from({ length: 25 }, (_, i) => ({
      id: i + 1,
      name: `r-${i}`,
      os: 'Linux',
      status: 'online' as const,
      busy: false,
      labels: [],
    }));
    await naive.onEvent(live);
    expect(ledger.tally('naive')).toMatchObject({ listPages: 2, rateLimited: 1, requests: 3 });
  });
});
