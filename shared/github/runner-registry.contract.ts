import { describe, expect, it } from 'vitest';
import { hasCause, ThrottledError } from '../core/errors';
import { RunnerBusyError, RunnerListingError } from './errors';
import type { RunnerRegistry } from './port';

/** How a contract test arranges GitHub's state behind the subject. */
export interface RegistryHarness {
  registry: RunnerRegistry;
  /** The registry's scope in words (`organisation acme`, `acme/infra`, `enterprise acme-corp`). */
  scopeName: string;
  add(r: { name: string; busy?: boolean; status?: 'online' | 'offline'; labels?: string[] }): number;
  failNextListPage(): void;
  exhaustRateLimit(): void;
  /** GitHub's secondary rate limit from now on (a 403 naming it, without retry-after). */
  hitSecondaryRateLimit(): void;
}

/** The behaviour every RunnerRegistry (the Octokit adapter and the in-memory fake) must show. */
export function describeRunnerRegistryContract(name: string, make: () => RegistryHarness): void {
  describe(`RunnerRegistry contract: ${name}`, () => {
    it('lists every runner across pages (250 runners = 3 pages of 100), each once', async () => {
      const h = make();
      for (let i = 0; i < 250; i++) h.add({ name: `runner-${i}`, labels: ['self-hosted', 'linux'] });
      const runners = await h.registry.listRunners();
      expect(runners).toHaveLength(250);
      expect(new Set(runners.map((r) => r.id)).size).toBe(250);
      expect(runners.find((r) => r.name === 'runner-249')).toMatchObject({
        status: 'online',
        busy: false,
        labels: ['self-hosted', 'linux'],
      });
    });

    it('fails the whole listing when any page fails, never returning a partial list', async () => {
      const h = make();
      for (let i = 0; i < 150; i++) h.add({ name: `runner-${i}` });
      h.failNextListPage();
      await expect(h.registry.listRunners()).rejects.toBeInstanceOf(RunnerListingError);
    });

    it('names its scope when a listing fails (several pools: the operator sees which one)', async () => {
      const h = make();
      h.add({ name: 'r' });
      h.failNextListPage();
      const err = await h.registry.listRunners().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunnerListingError);
      expect((err as Error).message).toContain(h.scopeName);
    });

    it('finds runners by exact name in one request, whatever page they would be on', async () => {
      const h = make();
      for (let i = 0; i < 150; i++) h.add({ name: `runner-${i}` });
      const id = h.add({
        name: 'ci-i-0abc12345678',
        labels: ['self-hosted', 'fleetwarden-instance:i-0abc12345678'],
      });
      h.add({ name: 'ci-i-0abc12345678-extra' });
      const find = h.registry.findRunnersByName?.bind(h.registry);
      expect(find, 'every fleetwarden registry implements findRunnersByName').toBeDefined();
      if (!find) return;
      expect(await find('ci-i-0abc12345678')).toEqual([
        expect.objectContaining({
          id,
          name: 'ci-i-0abc12345678',
          labels: ['self-hosted', 'fleetwarden-instance:i-0abc12345678'],
        }),
      ]);
      expect(await find('nobody')).toEqual([]);
    });

    it('cordons a runner: its custom labels are replaced (read-only ones stay), so jobs asking for them no longer land', async () => {
      const h = make();
      const id = h.add({
        name: 'ci-i-0abc12345678',
        busy: true,
        labels: ['self-hosted', 'Linux', 'X64', 'gpu-large', 'fleetwarden-instance:i-0abc12345678'],
      });
      const cordon = h.registry.cordonRunner?.bind(h.registry);
      expect(cordon, 'every fleetwarden registry implements cordonRunner').toBeDefined();
      if (!cordon) return;
      expect(await cordon(id, ['fleetwarden-instance:i-0abc12345678', 'fleetwarden-draining'])).toBe(
        'cordoned',
      );
      const after = await h.registry.getRunner(id);
      expect(after?.busy).toBe(true);
      expect([...(after?.labels ?? [])].sort()).toEqual(
        ['self-hosted', 'Linux', 'X64', 'fleetwarden-instance:i-0abc12345678', 'fleetwarden-draining'].sort(),
      );
      expect(await cordon(99_999, ['fleetwarden-draining'])).toBe('not-found');
    });

    it('reads one runner, and answers undefined for one GitHub does not know', async () => {
      const h = make();
      const id = h.add({ name: 'ci-i-0abc12345678', busy: true });
      expect(await h.registry.getRunner(id)).toMatchObject({ id, name: 'ci-i-0abc12345678', busy: true });
      expect(await h.registry.getRunner(99_999)).toBeUndefined();
    });

    it('deletes an idle runner; a second delete (or an unknown id) is not-found, which counts as done', async () => {
      const h = make();
      const id = h.add({ name: 'idle' });
      expect(await h.registry.deleteRunner(id)).toBe('deleted');
      expect(await h.registry.deleteRunner(id)).toBe('not-found');
      expect(await h.registry.getRunner(id)).toBeUndefined();
    });

    it('refuses to delete a busy runner with RunnerBusyError, and the runner stays', async () => {
      const h = make();
      const id = h.add({ name: 'busy', busy: true });
      await expect(h.registry.deleteRunner(id)).rejects.toBeInstanceOf(RunnerBusyError);
      expect(await h.registry.getRunner(id)).toMatchObject({ busy: true });
    });

    it('surfaces an exhausted rate limit as ThrottledError with the wait (listing: wrapped)', async () => {
      const h = make();
      const id = h.add({ name: 'r' });
      h.exhaustRateLimit();
      const err = await h.registry.deleteRunner(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ThrottledError);
      expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(0);
      const listing = await h.registry.listRunners().catch((e: unknown) => e);
      expect(listing).toBeInstanceOf(RunnerListingError);
      expect(hasCause(listing, ThrottledError)).toBe(true);
    });

    it('surfaces a secondary rate limit as ThrottledError too (a throttle, never a hard error)', async () => {
      const h = make();
      const id = h.add({ name: 'r' });
      h.hitSecondaryRateLimit();
      for (const call of [() => h.registry.deleteRunner(id), () => h.registry.getRunner(id)]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ThrottledError);
        // about a minute (GitHub: without retry-after, wait at least one); the clock runs meanwhile
        expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(50_000);
      }
      expect(hasCause(await h.registry.listRunners().catch((e: unknown) => e), ThrottledError)).toBe(true);
    });
  });
}
