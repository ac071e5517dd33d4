import { ThrottledError } from '../../shared/core/errors';
import { GitHubApiError, RunnerListingError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import {
  type DrainDecision,
  type DrainInput,
  DrainInvariantError,
  decideDrain,
} from '../../shared/runners/drain';
import type { DrainState } from '../../shared/runners/drain-state';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import { conventionalRunnerNames, instanceIdOf } from '../../shared/runners/matching';
import type { Listing } from '../../shared/runners/sweep-planner';

/** A decision with the absence already confirmed. */
export type Settled = Exclude<DrainDecision, { kind: 'confirm' }>;

export const isGitHubFailure = (err: unknown) =>
  err instanceof RunnerListingError || err instanceof ThrottledError || err instanceof GitHubApiError;

/** A listing (or lookup) as data: a GitHub failure means "could not look", never "no runner". */
async function look(fn: () => Promise<GitHubRunner[]>): Promise<Listing<GitHubRunner>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    if (!isGitHubFailure(err)) throw err;
    const e = err as Error;
    return { ok: false, error: e.cause instanceof Error ? e.cause.message : e.message };
  }
}

/**
 * The runners the drain already knows for the instance, read by id, plus any registered under
 * its documented names (`?name=`: an ephemeral runner re-registered under a new id), mine only.
 */
async function readKnown(
  registry: RunnerRegistry,
  instanceId: string,
  ids: readonly number[],
): Promise<GitHubRunner[]> {
  const [byId, byName] = await Promise.all([
    Promise.all(ids.map((id) => registry.getRunner(id))),
    findByConventionalNames(registry, [instanceId]),
  ]);
  const mine = new Map<number, GitHubRunner>();
  for (const r of [...byId, ...byName])
    if (r && instanceIdOf(r)?.instanceId === instanceId) mine.set(r.id, r);
  return [...mine.values()];
}

/**
 * Absent from one offset-paginated listing of a live list is not proof: look up the documented
 * names (?name=, immune to page shifts); found nowhere (a custom name?), the next look's listing is
 * the second listing, so no invocation reads every page twice.
 */
async function confirmAbsence(registry: RunnerRegistry, input: DrainInput) {
  const { instanceId } = input;
  const confirmation = await look(() => findByConventionalNames(registry, [instanceId]));
  const found = confirmation.ok && confirmation.items.some((r) => instanceIdOf(r)?.instanceId === instanceId);
  if (found || !confirmation.ok)
    return { decision: decideDrain({ ...input, confirmation }), absentOnce: false };
  const decision: DrainDecision = {
    kind: 'wait',
    busy: [],
    reason: `no runner for ${instanceId} in one listing nor by name (${conventionalRunnerNames(instanceId).join(', ')}); one more listing on the next look before letting the instance go`,
  };
  return { decision, absentOnce: true };
}

/**
 * The instance's runners: the known ones (drain state) by id and by name, else a full listing;
 * an absence is confirmed. Only a full listing counts toward the two that prove an absence.
 */
export async function findRunners(
  registry: RunnerRegistry,
  state: DrainState,
  drainInput: Omit<DrainInput, 'runners'>,
): Promise<{ decision: Settled; absentOnce: boolean }> {
  const { instanceId } = drainInput;
  let runners: Listing<GitHubRunner> = { ok: true, items: [] };
  if (state.runnerIds.length > 0)
    runners = await look(() => readKnown(registry, instanceId, state.runnerIds));
  // none of the known runners is left (or they could not be read): list every page
  const listed = !runners.ok || runners.items.length === 0;
  if (listed) runners = await look(() => registry.listRunners());
  const input = { ...drainInput, runners, absentBefore: listed && state.absentOnce };
  let decision = decideDrain(input);
  // an absence seen once is carried while listings fail; a runner seen ends it
  let absentOnce = state.absentOnce && !runners.ok;
  if (decision.kind === 'confirm') {
    const confirmed = await confirmAbsence(registry, input);
    decision = confirmed.decision;
    absentOnce ||= confirmed.absentOnce;
  }
  if (decision.kind === 'confirm')
    throw new DrainInvariantError(`drain of ${instanceId} still unconfirmed after the confirmation`);
  return { decision, absentOnce };
}
