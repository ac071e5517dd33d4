import type { GitHubRunner, RunnerRegistry } from '../github/port';
import { conventionalRunnerNames } from './matching';

/**
 * The runners registered under the documented names of these instances (`ci-<id>`, `<id>`), by
 * GitHub's `?name=` filter: immune to the page shifts of an offset-paginated listing, so it is how an
 * absence seen in one listing is checked. A registry without name lookups finds nothing (callers
 * then rely on a second listing).
 */
export async function findByConventionalNames(
  registry: RunnerRegistry,
  instanceIds: readonly string[],
): Promise<GitHubRunner[]> {
  const lookup = registry.findRunnersByName?.bind(registry);
  if (!lookup) return [];
  const names = instanceIds.flatMap(conventionalRunnerNames);
  return (await Promise.all(names.map((n) => lookup(n)))).flat();
}
