import { describe, expect, it } from 'vitest';
import { InMemoryRunnerRegistry } from './in-memory-runner-registry';
import { describeRunnerRegistryContract } from './runner-registry.contract';
import { describeScope } from './scope';

for (const scope of [{ owner: 'acme' }, { owner: 'acme', repository: 'infra' }, { enterprise: 'acme-corp' }])
  describeRunnerRegistryContract(`InMemoryRunnerRegistry (${describeScope(scope)})`, () => {
    const registry = new InMemoryRunnerRegistry({ scope });
    return {
      registry,
      scopeName: describeScope(scope),
      add: (r) => registry.register(r).id,
      failNextListPage: () => registry.failNextListPage(),
      exhaustRateLimit: () => registry.exhaustRateLimit(),
      hitSecondaryRateLimit: () => registry.hitSecondaryRateLimit(),
    };
  });

describe('InMemoryRunnerRegistry (territory the contract cannot arrange through HTTP)', () => {
  it('counts list pages: 10,000 runners cost exactly 100 pages', async () => {
    const registry = new InMemoryRunnerRegistry();
    for (let i = 0; i < 10_000; i++) registry.register({ name: `r-${i}` });
    await registry.listRunners();
    expect(registry.calls.listPages).toBe(100);
  });

  it('models offset pagination over a live list: a removal mid-listing can hide a runner', async () => {
    const registry = new InMemoryRunnerRegistry({ perPage: 2 });
    const ids = ['a', 'b', 'c', 'd', 'e'].map((name) => registry.register({ name }).id);
    registry.beforeListPage = (page) => {
      if (page === 1) registry.unregister(ids[0] as number);
    };
    const names = (await registry.listRunners()).map((r) => r.name);
    expect(names).not.toContain('c');
    expect(names).toEqual(expect.arrayContaining(['a', 'b', 'd', 'e']));
  });

  it('restores the rate limit when the window resets', async () => {
    let now = 0;
    const registry = new InMemoryRunnerRegistry({ rateLimit: 2, rateWindowMs: 1000, now: () => now });
    await registry.getRunner(1);
    await registry.getRunner(1);
    await expect(registry.getRunner(1)).rejects.toMatchObject({ retryAfterMs: 1000 });
    now = 1000;
    await expect(registry.getRunner(1)).resolves.toBeUndefined();
  });
});
