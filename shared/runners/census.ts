import type { GitHubRunner } from '../github/port';
import { conventionalRunnerNames, instanceIdOf } from './matching';

/**
 * What one full runner listing showed, shared by the drains of a pool (their state table): when the
 * listing began, and the instances with a runner under a name other than their documented ones
 * (`ci-<id>`, `<id>`), which only a full listing can find ('all': too many to keep).
 *
 * Why: a drain must see every runner of its instance (a busy one holds it, idle ones are
 * deregistered), and GitHub filters runners by exact name only. A name lookup is complete for an
 * instance whose runners all carry its documented names, and a listing begun after the drain's
 * first look proves that as well as the drain's own listing would: so drains share one listing
 * instead of each reading every page (O(runners) GitHub requests per drain).
 */
export interface RunnerCensus {
  takenAt: Date;
  otherNames: string[] | 'all';
}

/** Above this many instances the census keeps 'all' (a DynamoDB item holds 400 KB). */
export const CENSUS_MAX_INSTANCES = 5000;

export function censusOf(listing: readonly GitHubRunner[], takenAt: Date): RunnerCensus {
  const other = new Set<string>();
  for (const r of listing) {
    const id = instanceIdOf(r)?.instanceId;
    if (id && !conventionalRunnerNames(id).includes(r.name)) other.add(id);
  }
  return { takenAt, otherNames: other.size > CENSUS_MAX_INSTANCES ? 'all' : [...other].sort() };
}

/**
 * Whether a drain whose first look was at `firstLookAt` may take its name lookups as every runner of
 * `instanceId`: 'trust' (a listing begun since saw no other name for it), 'list' (it has another
 * name: only a listing finds every runner), 'wait' (no listing since the first look: a runner
 * registered in between under any name would be missed).
 */
export function trustNames(
  census: RunnerCensus | undefined,
  instanceId: string,
  firstLookAt: Date,
): 'trust' | 'list' | 'wait' {
  if (!census || census.takenAt.getTime() < firstLookAt.getTime()) return 'wait';
  if (census.otherNames === 'all' || census.otherNames.includes(instanceId)) return 'list';
  return 'trust';
}
