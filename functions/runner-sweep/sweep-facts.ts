/** What runner-sweep reads before judging: the source of truth (GitHub, EC2, Auto Scaling) and its memory. */

import type { InstanceInfo } from '../../shared/ec2/port';
import type { GitHubRunner } from '../../shared/github/port';
import type { PortsOf } from '../../shared/kernel/ports';
import { logger } from '../../shared/observability/powertools';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import { fleetIdOf, instanceIdOf } from '../../shared/runners/matching';
import {
  confirmTerminations,
  type Listing,
  planSweep,
  type SweepConfig,
  type SweepPlan,
} from '../../shared/runners/sweep-planner';
import type { RunnerSweepSettings } from './settings';

/** The ports runner-sweep uses (the names its definition declares). */
export type SweepPorts = PortsOf<
  'registry' | 'inventory' | 'instanceLifecycle' | 'warmPool' | 'terminator' | 'audit' | 'sweepState'
>;

const LEAVING = new Set(['shutting-down', 'stopping', 'stopped', 'terminated']);
/** First sightings outlive the longest grace period by a day (refreshed on every sighting). */
const SEEN_KEPT_MS = 86_400_000;

export function sweepConfig(s: RunnerSweepSettings): SweepConfig {
  return {
    gracePeriodMs: s.gracePeriod * 1000,
    bootTimeoutMs: s.bootTimeout * 1000,
    allowTerminate: s.allowTerminate,
    maxRemovalShare: s.maxRemovalShare,
    maxRemovalsPerRun: s.maxRemovalsPerRun,
    budgetWindowMs: s.budgetWindow * 1000,
  };
}

async function listing<T>(what: string, fn: () => Promise<T[]>): Promise<Listing<T>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    logger.warn(`${what} listing failed`, { error: err as Error });
    const e = err as Error;
    return { ok: false, error: e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message };
  }
}

export interface Observed {
  runners: Listing<GitHubRunner>;
  fleet: Listing<InstanceInfo>;
  described: InstanceInfo[];
  terminating: Set<string>;
  /** The groups' warm-pool instances (one DescribeWarmPool per group), its failure, or unread (no groups). */
  warmPool?: Listing<[string, string]>;
}

/** Every runner page, every fleet instance, the runners' other instances and the ASGs' Terminating ones. */
export async function observe(ports: SweepPorts, s: RunnerSweepSettings): Promise<Observed> {
  const runners = await listing('runner', () => ports.registry.listRunners());
  let fleet = await listing('instance', () => ports.inventory.listByTag(s.fleetTagKey, s.fleetTagValue));
  if (!runners.ok || !fleet.ok) return { runners, fleet, described: [], terminating: new Set() };
  const inFleet = new Set(fleet.items.map((i) => i.instanceId));
  const missing = [...new Set(runners.items.flatMap((r) => instanceIdOf(r)?.instanceId ?? []))].filter(
    (id) => !inFleet.has(id),
  );
  const extra = await listing('instance (describe)', () => ports.inventory.describe(missing));
  const groups = s.autoScalingGroupNames;
  const leaving = await listing('ASG lifecycle', async () => [
    ...(groups.length > 0
      ? await ports.instanceLifecycle.terminatingInGroups(groups)
      : await ports.instanceLifecycle.terminating([...inFleet])),
  ]);
  if (!extra.ok) fleet = extra;
  else if (!leaving.ok) fleet = leaving as Listing<InstanceInfo>;
  else {
    // a failure here only withholds stopped-instance removals and terminations (the planner says so)
    const warmPool =
      groups.length > 0
        ? await listing('warm pool', async () => [...(await ports.warmPool.warmedInGroups(groups))])
        : undefined;
    return {
      runners,
      fleet,
      described: extra.items,
      terminating: new Set(leaving.items),
      ...(warmPool ? { warmPool } : {}),
    };
  }
  return { runners, fleet, described: [], terminating: new Set() };
}

/**
 * What the state table knows: removals in the budget window, and the first sightings of this
 * fleet's runners' instances that EC2 no longer describes or that are leaving without a time.
 */
export async function remembered(ports: SweepPorts, s: RunnerSweepSettings, seen: Observed, now: Date) {
  const tally = await ports.sweepState.removalsSince(new Date(now.getTime() - s.budgetWindow * 1000));
  const spent = { removalsInWindow: tally.total, unconfirmedRemovalsInWindow: tally.unconfirmed };
  if (!seen.runners.ok || !seen.fleet.ok) return spent;
  const known = new Map([...seen.fleet.items, ...seen.described].map((i) => [i.instanceId, i]));
  const gone: string[] = [];
  const leaving: string[] = [];
  for (const r of seen.runners.items) {
    const id = instanceIdOf(r)?.instanceId;
    if (!id) continue;
    const info = known.get(id);
    if (!info && fleetIdOf(r) === s.fleetId) gone.push(`gone:${id}`);
    else if (info && LEAVING.has(info.state) && !info.stateChangedAt) leaving.push(`leaving:${id}`);
  }
  const expires = new Date(now.getTime() + s.gracePeriod * 1000 + SEEN_KEPT_MS);
  const first = await ports.sweepState.firstSeen([...new Set([...gone, ...leaving])], now, expires);
  const pick = (prefix: string) =>
    new Map(
      [...first].flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v] as const] : [])),
    );
  return { ...spent, goneSince: pick('gone:'), leavingSince: pick('leaving:') };
}

/**
 * The pure planner's verdict on what was read; a never-registered verdict rests on absence from one
 * offset-paginated listing of a live list: look again (the documented names by ?name=, then a
 * second listing) just before terminating.
 */
export async function planAndConfirm(
  ports: SweepPorts,
  s: RunnerSweepSettings,
  config: SweepConfig,
  seen: Observed,
  memory: { now: Date } & Awaited<ReturnType<typeof remembered>>,
): Promise<SweepPlan> {
  const plan = planSweep(
    {
      ...memory,
      runners: seen.runners,
      fleet: seen.fleet,
      described: seen.described,
      terminating: seen.terminating,
      ...(seen.warmPool ? { warmPool: seen.warmPool } : {}),
      fleetTag: { key: s.fleetTagKey, value: s.fleetTagValue },
      fleetId: s.fleetId,
      autoScalingGroupNames: s.autoScalingGroupNames,
      ...(s.region ? { region: s.region } : {}),
      ...(s.runnerLabels?.length ? { labels: s.runnerLabels } : {}),
    },
    config,
  );
  // a refused run's terminations (its proposal) are looked at again just the same
  const candidates = [...plan.actions, ...(plan.wouldHave ?? [])].flatMap((a) =>
    a.kind === 'terminate' ? [a.instanceId] : [],
  );
  if (candidates.length === 0) return plan;
  const confirmation = await listing('runner (re-check before terminating)', async () => {
    const byName = await findByConventionalNames(ports.registry, candidates);
    return [...byName, ...(await ports.registry.listRunners())];
  });
  return confirmTerminations(plan, confirmation);
}
