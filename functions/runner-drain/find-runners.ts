import { ThrottledError } from '../../shared/core/errors';
import { GitHubApiError, RunnerListingError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { censusOf, type RunnerCensus, trustNames } from '../../shared/runners/census';
import {
  type DrainDecision,
  type DrainInput,
  DrainInvariantError,
  decideDrain,
} from '../../shared/runners/drain';
import type { CensusRead, DrainState } from '../../shared/runners/drain-state';
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
 * The runners the drain already knows for the instance, read by id, plus any registered under its
 * documented names (`?name=`: an ephemeral runner re-registered under a new id), mine only. While
 * one known runner is busy the drain waits whatever a lookup finds, so the names are looked up only
 * when `namesDue` (once every NAME_LOOKUP_PERIOD_MS, see `nameLookupDue`) or when none is busy (the
 * look could complete): drains share the App's rate limit.
 */
async function readKnown(
  registry: RunnerRegistry,
  instanceId: string,
  ids: readonly number[],
  namesDue: boolean,
): Promise<GitHubRunner[]> {
  const mine = new Map<number, GitHubRunner>();
  const keep = (rs: (GitHubRunner | undefined)[]) => {
    for (const r of rs) if (r && instanceIdOf(r)?.instanceId === instanceId) mine.set(r.id, r);
  };
  keep(await Promise.all(ids.map((id) => registry.getRunner(id))));
  if (!namesDue && [...mine.values()].some((r) => r.busy)) return [...mine.values()];
  keep(await findByConventionalNames(registry, [instanceId]));
  return [...mine.values()];
}

/** How often a drain waiting on a busy runner looks the documented names up again. */
export const NAME_LOOKUP_PERIOD_MS = 300_000;

/**
 * Whether a look waiting on a busy runner looks the documented names up: the first look of each
 * period since the drain's first look (looks come `lookEveryMs` apart), so an idle re-registration
 * is deregistered within about a period, at 2 requests a period, not 2 a look.
 */
export const nameLookupDue = (now: Date, firstLookAt: Date, lookEveryMs: number) =>
  (now.getTime() - firstLookAt.getTime()) % Math.max(NAME_LOOKUP_PERIOD_MS, lookEveryMs) < lookEveryMs;

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

/** The drain state table's shared runner census (read and written by the caller, audited there). */
export interface CensusAccess {
  read(): Promise<CensusRead>;
  record(census: RunnerCensus): Promise<void>;
}

/**
 * How long a first look waits for another drain's listing before it lists every page itself; it
 * waits only when another drain asked for a listing within this time (drains arriving together
 * share one listing; a drain alone lists at once, as before).
 */
export const CENSUS_WAIT_MS = 45_000;

type FirstLook = { runners: Listing<GitHubRunner>; listed: boolean } | { wait: string };

/**
 * A first look: the documented names (`?name=`, 2 requests) first. They are every runner of the
 * instance only if a full listing begun since the drain's first look saw no other name for it
 * (census.ts); with none yet it lists every page itself and shares that listing, unless other drains
 * asked for one lately: then it waits a look for theirs (one listing serves drains arriving together). Nothing found by name (absence, or a custom name): list, as before.
 */
async function firstLook(
  registry: RunnerRegistry,
  state: DrainState,
  input: Omit<DrainInput, 'runners'>,
  census: CensusAccess,
): Promise<FirstLook> {
  const { instanceId, now } = input;
  const named = await look(async () =>
    (await findByConventionalNames(registry, [instanceId])).filter(
      (r) => instanceIdOf(r)?.instanceId === instanceId,
    ),
  );
  if (named.ok && named.items.length > 0) {
    const read = await census.read();
    const trust = trustNames(read.census, instanceId, state.firstLookAt);
    if (trust === 'trust') return { runners: named, listed: false };
    const within = (t: Date | undefined) => t !== undefined && now.getTime() - t.getTime() < CENSUS_WAIT_MS;
    if (trust === 'wait' && within(read.askedAt) && within(state.firstLookAt))
      return {
        wait: `runner ${named.items.map((r) => r.name).join(', ')} found by name; other drains are waiting for a listing too: waiting a look for one of every runner begun since this drain's first look before taking it as the only runner of ${instanceId}`,
      };
  }
  const listing = await look(() => registry.listRunners());
  if (!listing.ok) return { runners: listing, listed: true };
  await census.record(censusOf(listing.items, now));
  const byId = new Map([...listing.items, ...(named.ok ? named.items : [])].map((r) => [r.id, r]));
  return { runners: { ok: true, items: [...byId.values()] }, listed: true };
}

/**
 * The instance's runners: the known ones (drain state) by id and by name, else a first look (names
 * first, see `firstLook`); an absence is confirmed. Only a full listing counts toward the two that
 * prove an absence.
 */
export async function findRunners(
  registry: RunnerRegistry,
  state: DrainState,
  drainInput: Omit<DrainInput, 'runners'>,
  census: CensusAccess,
  lookEveryMs: number,
): Promise<{ decision: Settled; absentOnce: boolean }> {
  const { instanceId } = drainInput;
  let runners: Listing<GitHubRunner> = { ok: true, items: [] };
  if (state.runnerIds.length > 0)
    runners = await look(() =>
      readKnown(
        registry,
        instanceId,
        state.runnerIds,
        nameLookupDue(drainInput.now, state.firstLookAt, lookEveryMs),
      ),
    );
  // none of the known runners is left (or they could not be read): look afresh
  let listed = false;
  if (!runners.ok || runners.items.length === 0) {
    const first = await firstLook(registry, state, drainInput, census);
    if ('wait' in first)
      return { decision: { kind: 'wait', busy: [], reason: first.wait }, absentOnce: state.absentOnce };
    ({ runners, listed } = first);
  }
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
