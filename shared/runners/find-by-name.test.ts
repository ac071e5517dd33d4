import { describe, expect, it } from 'vitest';
import { InMemoryRunnerRegistry } from '../github/in-memory-runner-registry';
import type { RunnerRegistry } from '../github/port';
import { findByConventionalNames } from './find-by-name';

describe('findByConventionalNames', () => {
  it('looks up ci-<id> and <id> for every instance by ?name= and returns what it finds', async () => {
    const registry = new InMemoryRunnerRegistry({ perPage: 2 });
    const a = registry.register({ name: 'ci-i-0000000000000000a' });
    const b = registry.register({ name: 'i-0000000000000000b' });
    registry.register({ name: 'someone-else' });
    const found = await findByConventionalNames(registry, ['i-0000000000000000a', 'i-0000000000000000b']);
    expect(found.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(registry.calls.byName).toBe(4);
    expect(registry.calls.listPages).toBe(0);
  });

  it('finds nothing on a registry without name lookups (the caller then relies on listings)', async () => {
    const bare = { findRunnersByName: undefined } as unknown as RunnerRegistry;
    expect(await findByConventionalNames(bare, ['i-0000000000000000a'])).toEqual([]);
  });
});
