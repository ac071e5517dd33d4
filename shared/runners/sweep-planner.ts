import type { InstanceInfo } from '../ec2/port';
import type { GitHubRunner } from '../github/port';
import { instanceIdOf, type RunnerMatch, regionOf } from './matching';

export interface SweepConfig {
  /** After an instance left (stateChangedAt), wait this long before deregistering its idle runner. */
  gracePeriodMs: number;
  /** A fleet instance running this long with no runner registered is reported (or terminated). */
  bootTimeoutMs: number;
  /** Terminate never-registered instances (otherwise only report them). */
  allowTerminate: boolean;
  /** Refuse the whole run when removals exceed this share of the fleet (one removal always allowed). */
  maxRemovalShare: number;
  /**
   * At most this many removals per run; the rest are deferred to the next run (GitHub paces
   * writes ~1/s, so a 5-minute run cannot do more than ~250). @default 100
   */
  maxRemovalsPerRun?: number;
}

export const DEFAULT_SWEEP_CONFIG: SweepConfig = {
  gracePeriodMs: 5 * 60_000,
  bootTimeoutMs: 15 * 60_000,
  allowTerminate: false,
  maxRemovalShare: 0.2,
  maxRemovalsPerRun: 100,
};

/** EC2 keeps describing a terminated instance for about an hour: one it forgot left at least that long ago. */
const EC2_FORGETS_AFTER_MS = 3_600_000;

export type Listing<T> = { ok: true; items: T[] } | { ok: false; error: string };

export interface SweepInput {
  now: Date;
  /** Every runner, all pages, or the failure. */
  runners: Listing<GitHubRunner>;
  /** Every non-terminated instance carrying the fleet tag, all pages, or the failure. */
  fleet: Listing<InstanceInfo>;
  /** DescribeInstances of runner instance ids missing from `fleet` (terminated, or someone else's). */
  described: InstanceInfo[];
  /** Instances the ASG is terminating (lifecycle state Terminating*), when known. */
  terminating?: ReadonlySet<string>;
  fleetTag: { key: string; value: string };
  /** The region swept: runners labelled `fleetwarden-region:<other>` are not this sweep's. */
  region?: string;
}

export type Finding = 'never-registered' | 'busy-on-leaving-instance' | 'unverifiable-runner';

export type SweepAction =
  | { kind: 'deregister'; runner: GitHubRunner; instanceId: string; reason: string }
  | { kind: 'terminate'; instanceId: string; reason: string }
  | {
      kind: 'report';
      finding: Finding;
      subject: { instanceId?: string; runnerName?: string; runnerId?: number };
      reason: string;
    }
  | { kind: 'skip'; runner: GitHubRunner; instanceId: string; reason: string }
  /** A termination withdrawn by the re-check (a runner was found after all). */
  | { kind: 'keep'; instanceId: string; reason: string };

/** A removal left for the next run by `maxRemovalsPerRun`. */
export interface Deferred {
  kind: 'deregister' | 'terminate';
  instanceId: string;
  runnerId?: number;
}

export interface SweepPlan {
  actions: SweepAction[];
  /** Set when the circuit breaker refused the run; no removal is in `actions` then. */
  refused?: string;
  /** Removals the run would have made (before the breaker). */
  wouldRemove: number;
  /** max(fleet runners, fleet instances): what the share is measured against. */
  fleetSize: number;
  /** Removals beyond `maxRemovalsPerRun`, left for the next run. */
  deferred?: Deferred[];
}

const LEAVING = new Set<InstanceInfo['state']>(['shutting-down', 'stopping', 'stopped', 'terminated']);

type Where =
  | { kind: 'healthy'; info: InstanceInfo }
  | { kind: 'leaving'; info: InstanceInfo; since: number | undefined }
  | { kind: 'foreign' }
  | { kind: 'unknown' };

/**
 * Pure sweep decision (runner-sweep applies it). Rules, in order:
 * - breaker inputs: a failed or empty listing refuses the run (never judge from partial data);
 * - runners with no instance match are not the fleet's: never touched;
 * - a busy runner is never removed (on a leaving instance it is reported);
 * - an idle runner whose instance left (terminated, shutting down, stopped, or being terminated by
 *   the ASG) is deregistered once `gracePeriodMs` passed since it left; an instance EC2 no longer
 *   describes (terminated more than ~1 h ago) is past any grace;
 * - name-only matches are removed only when EC2 confirms the fleet tag; otherwise reported;
 * - a fleet instance running longer than `bootTimeoutMs` without a runner is reported, and
 *   terminated when `allowTerminate`;
 * - breaker: more removals than max(1, floor(share x fleet size)) refuses them all.
 */
export function planSweep(input: SweepInput, config: SweepConfig): SweepPlan {
  if (!input.runners.ok) return refusedOnly(`runner listing failed: ${input.runners.error}`);
  if (!input.fleet.ok) return refusedOnly(`instance listing failed: ${input.fleet.error}`);
  if (input.runners.items.length === 0) return refusedOnly('runner listing came back empty');
  if (input.fleet.items.length === 0) return refusedOnly('instance listing came back empty');

  const now = input.now.getTime();
  const fleetById = new Map(input.fleet.items.map((i) => [i.instanceId, i]));
  const describedById = new Map(input.described.map((i) => [i.instanceId, i]));
  const isFleet = (i: InstanceInfo) => i.tags[input.fleetTag.key] === input.fleetTag.value;
  const where = (id: string): Where => {
    const info = fleetById.get(id) ?? describedById.get(id);
    if (!info) return { kind: 'unknown' };
    if (!isFleet(info)) return { kind: 'foreign' };
    if (LEAVING.has(info.state)) {
      return {
        kind: 'leaving',
        info,
        since: info.stateChangedAt ? Date.parse(info.stateChangedAt) : undefined,
      };
    }
    if (input.terminating?.has(id)) return { kind: 'leaving', info, since: undefined };
    return { kind: 'healthy', info };
  };

  const actions: SweepAction[] = [];
  const instancesWithRunner = new Set<string>();
  let fleetRunners = 0;
  for (const runner of input.runners.items) {
    const match: RunnerMatch | undefined = instanceIdOf(runner);
    if (!match) continue;
    // any runner naming the instance keeps it from being taken for one that never registered
    instancesWithRunner.add(match.instanceId);
    const region = regionOf(runner);
    if (region !== undefined && input.region !== undefined && region !== input.region) continue;
    const w = where(match.instanceId);
    if (w.kind === 'foreign') continue;
    fleetRunners++;
    if (w.kind === 'healthy') continue;
    const instanceId = match.instanceId;
    if (w.kind === 'unknown' && match.by === 'name') {
      actions.push({
        kind: 'report',
        finding: 'unverifiable-runner',
        subject: { instanceId, runnerName: runner.name, runnerId: runner.id },
        reason: `runner ${runner.name} is named after ${instanceId}, which EC2 no longer describes; without the ${'fleetwarden-instance:'} label its ownership cannot be confirmed, so it is left alone`,
      });
      continue;
    }
    if (runner.busy) {
      if (w.kind === 'leaving') {
        actions.push({
          kind: 'report',
          finding: 'busy-on-leaving-instance',
          subject: { instanceId, runnerName: runner.name, runnerId: runner.id },
          reason: `runner ${runner.name} is running a job while its instance ${instanceId} is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}; a busy runner is never removed`,
        });
      } else {
        actions.push({
          kind: 'skip',
          runner,
          instanceId,
          reason: `runner ${runner.name} is busy; a busy runner is never removed`,
        });
      }
      continue;
    }
    if (w.kind === 'unknown' && runner.status === 'online') {
      actions.push({
        kind: 'report',
        finding: 'unverifiable-runner',
        subject: { instanceId, runnerName: runner.name, runnerId: runner.id },
        reason: `runner ${runner.name} is online but EC2 here does not describe ${instanceId} (another region or account?); an online runner is never removed on absence from EC2`,
      });
      continue;
    }
    // EC2 forgot the instance: it left at least ~1 h ago (the grace period still applies)
    const since = w.kind === 'leaving' ? w.since : now - EC2_FORGETS_AFTER_MS;
    const gone =
      w.kind === 'unknown'
        ? 'EC2 no longer describes it (terminated over an hour ago) and the runner is offline'
        : `it is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}`;
    if (since !== undefined && now - since < config.gracePeriodMs) {
      actions.push({
        kind: 'skip',
        runner,
        instanceId,
        reason: `instance ${instanceId} left ${Math.round((now - since) / 1000)} s ago; within the ${config.gracePeriodMs / 1000} s grace period`,
      });
      continue;
    }
    actions.push({
      kind: 'deregister',
      runner,
      instanceId,
      reason: `runner ${runner.name} is idle and its instance ${instanceId} is gone: ${gone}`,
    });
  }

  for (const info of input.fleet.items) {
    if (
      info.state !== 'running' ||
      input.terminating?.has(info.instanceId) ||
      instancesWithRunner.has(info.instanceId)
    )
      continue;
    const launched = info.launchTime ? Date.parse(info.launchTime) : now;
    if (now - launched < config.bootTimeoutMs) continue;
    const reason = `instance ${info.instanceId} has been running ${Math.round((now - launched) / 60_000)} min without registering a runner (boot timeout ${config.bootTimeoutMs / 60_000} min)`;
    actions.push(
      config.allowTerminate
        ? { kind: 'terminate', instanceId: info.instanceId, reason }
        : {
            kind: 'report',
            finding: 'never-registered',
            subject: { instanceId: info.instanceId },
            reason: `${reason}; terminating is not enabled (allowTerminate)`,
          },
    );
  }

  const fleetSize = Math.max(fleetRunners, input.fleet.items.length);
  const isRemoval = (a: SweepAction) => a.kind === 'deregister' || a.kind === 'terminate';
  const wouldRemove = actions.filter(isRemoval).length;
  const withoutRemovals = () => actions.filter((a) => !isRemoval(a));
  const matchedFleet = input.fleet.items.filter((i) => instancesWithRunner.has(i.instanceId)).length;
  const unregistered = actions.filter(
    (a) => a.kind === 'terminate' || (a.kind === 'report' && a.finding === 'never-registered'),
  ).length;
  if (matchedFleet === 0 && unregistered > 0) {
    return {
      actions: withoutRemovals(),
      refused: `circuit open: no runner matches any of the fleet's ${input.fleet.items.length} instances while ${unregistered} are past the boot timeout; the runner label convention is probably broken; nothing removed`,
      wouldRemove,
      fleetSize,
    };
  }
  const allowed = Math.max(1, Math.floor(config.maxRemovalShare * fleetSize));
  if (wouldRemove > allowed) {
    return {
      actions: withoutRemovals(),
      refused: `circuit open: ${wouldRemove} removals out of a fleet of ${fleetSize} exceed the allowed ${Math.round(config.maxRemovalShare * 100)}% (${allowed}); nothing removed`,
      wouldRemove,
      fleetSize,
    };
  }
  const cap = config.maxRemovalsPerRun ?? DEFAULT_SWEEP_CONFIG.maxRemovalsPerRun ?? 100;
  if (wouldRemove > cap) {
    let kept = 0;
    const deferred: Deferred[] = [];
    const capped = actions.filter((a) => {
      if (!isRemoval(a)) return true;
      if (kept < cap) {
        kept++;
        return true;
      }
      if (a.kind === 'deregister')
        deferred.push({ kind: 'deregister', instanceId: a.instanceId, runnerId: a.runner.id });
      else if (a.kind === 'terminate') deferred.push({ kind: 'terminate', instanceId: a.instanceId });
      return false;
    });
    return { actions: capped, wouldRemove, fleetSize, deferred };
  }
  return { actions, wouldRemove, fleetSize };

  function refusedOnly(reason: string): SweepPlan {
    return { actions: [], refused: `circuit open: ${reason}; nothing judged`, wouldRemove: 0, fleetSize: 0 };
  }
}

/**
 * The re-check just before terminating: a fleet instance is judged never-registered from its
 * runner's absence in one offset-paginated listing of a live list, where a concurrent delete can
 * make a runner skip a page. `confirmation` is a second look (name lookups and a second listing):
 * a termination whose instance has a runner there is withdrawn; a failed second look withdraws
 * every termination (reported, never acted on).
 */
export function confirmTerminations(plan: SweepPlan, confirmation: Listing<GitHubRunner>): SweepPlan {
  if (!plan.actions.some((a) => a.kind === 'terminate')) return plan;
  const found = new Map<string, GitHubRunner>();
  if (confirmation.ok) {
    for (const r of confirmation.items) {
      const id = instanceIdOf(r)?.instanceId;
      if (id) found.set(id, r);
    }
  }
  const actions = plan.actions.map((a): SweepAction => {
    if (a.kind !== 'terminate') return a;
    if (!confirmation.ok) {
      return {
        kind: 'report',
        finding: 'never-registered',
        subject: { instanceId: a.instanceId },
        reason: `${a.reason}; the re-check before terminating failed (${confirmation.error}), so it is not terminated`,
      };
    }
    const r = found.get(a.instanceId);
    return r
      ? {
          kind: 'keep',
          instanceId: a.instanceId,
          reason: `a second look found runner ${r.name} (${r.busy ? 'busy' : r.status}) for ${a.instanceId}, missed by the first listing; not terminating`,
        }
      : a;
  });
  return { ...plan, actions };
}
