import { FleetwardenError } from '../core/errors';
import type { GitHubRunner } from '../github/port';
import { instanceIdOf } from './matching';
import { carriesPoolLabels } from './pool';
import type { Listing } from './sweep-planner';

/** A drain reached a state its decision rules exclude (a bug, not an outage): fail the message. */
export class DrainInvariantError extends FleetwardenError {
  override readonly name: string = 'DrainInvariantError';
}

export interface DrainInput {
  instanceId: string;
  /** When the terminate lifecycle action began (the event's time). */
  startedAt: Date;
  now: Date;
  /** How long a busy runner may keep its instance before the action is completed anyway. */
  deadlineMs: number;
  runners: Listing<GitHubRunner>;
  /**
   * A second look, taken only when `runners` showed no runner for the instance: the runner list is
   * offset-paginated over a live list, so a concurrent delete can make a runner skip a page. The
   * confirmation is a name lookup (`?name=`, immune to shifts) plus a second full listing.
   */
  confirmation?: Listing<GitHubRunner>;
  /**
   * The previous look already found no runner (in its listing and by name): with none in this
   * look's listing either, the absence is confirmed by two listings.
   */
  absentBefore?: boolean;
  /**
   * The pool's labels: a runner of the instance without every one of them is another pool's,
   * never deregistered, cordoned or waited for. Absent or empty: no pool restriction.
   */
  labels?: readonly string[];
}

export type DrainDecision =
  /** No runner seen in one listing: confirm the absence (name lookup, second listing) before completing. */
  | { kind: 'confirm'; reason: string }
  /** Deregister these idle runners (if any), then CompleteLifecycleAction(CONTINUE). */
  | { kind: 'complete'; deregister: GitHubRunner[]; reason: string }
  /**
   * Record a heartbeat and look again later. `deregister`: the instance's idle runners, removed now
   * so they take no job while a busy one holds the instance; `seen`: runners whose deregistration
   * failed. Every runner of the instance is read again by id on the next look.
   */
  | { kind: 'wait'; busy: GitHubRunner[]; reason: string; deregister?: GitHubRunner[]; seen?: GitHubRunner[] }
  /** The deadline passed: complete anyway (the job, if any, fails) and alarm. */
  | { kind: 'deadline'; busy: GitHubRunner[]; deregister: GitHubRunner[]; reason: string };

/**
 * What to do for a terminating instance's runner(s). Idle: deregister so no new job lands, then let
 * the instance go. Busy: keep the instance (heartbeats) until the job ends or the deadline. A failed
 * runner listing is never read as "no runner": wait and look again, and at the deadline complete
 * without deregistering (the sweep cleans up the registration later). Absence from one listing is
 * not proof either (offset pages over a live list): it must be confirmed (`confirmation`).
 */
export function decideDrain(input: DrainInput): DrainDecision {
  const elapsed = input.now.getTime() - input.startedAt.getTime();
  const pastDeadline = elapsed >= input.deadlineMs;
  const mins = (ms: number) => `${Math.round(ms / 60_000)} min`;
  if (!input.runners.ok) {
    return pastDeadline
      ? {
          kind: 'deadline',
          busy: [],
          deregister: [],
          reason: `runner listing failed (${input.runners.error}) until the ${mins(input.deadlineMs)} drain deadline; completing without deregistering`,
        }
      : { kind: 'wait', busy: [], reason: `runner listing failed (${input.runners.error}); retrying` };
  }
  const c = input.confirmation;
  if (c && !c.ok) {
    return pastDeadline
      ? {
          kind: 'deadline',
          busy: [],
          deregister: [],
          reason: `confirming that ${input.instanceId} has no runner failed (${c.error}) until the ${mins(input.deadlineMs)} drain deadline; completing without deregistering`,
        }
      : {
          kind: 'wait',
          busy: [],
          reason: `confirming that ${input.instanceId} has no runner failed (${c.error}); retrying`,
        };
  }
  const byId = new Map<number, GitHubRunner>();
  for (const r of [...input.runners.items, ...(c?.ok ? c.items : [])]) {
    if (instanceIdOf(r)?.instanceId === input.instanceId && carriesPoolLabels(r, input.labels ?? []))
      byId.set(r.id, r);
  }
  const mine = [...byId.values()];
  if (mine.length === 0) {
    if (input.absentBefore)
      return {
        kind: 'complete',
        deregister: [],
        reason: `no runner is registered for ${input.instanceId} in two listings (one per look) nor by name`,
      };
    return c
      ? {
          kind: 'complete',
          deregister: [],
          reason: `no runner is registered for ${input.instanceId} (absence confirmed by a name lookup and a second listing)`,
        }
      : {
          kind: 'confirm',
          reason: `no runner for ${input.instanceId} in one listing; confirming before letting the instance go`,
        };
  }
  const busy = mine.filter((r) => r.busy);
  const idle = mine.filter((r) => !r.busy);
  if (busy.length === 0) {
    return {
      kind: 'complete',
      deregister: idle,
      reason: `runner ${idle.map((r) => r.name).join(', ')} is idle: deregistering before termination`,
    };
  }
  if (pastDeadline) {
    return {
      kind: 'deadline',
      busy,
      deregister: idle,
      reason: `runner ${busy.map((r) => r.name).join(', ')} still busy after ${mins(elapsed)} (deadline ${mins(input.deadlineMs)}); letting the instance terminate`,
    };
  }
  return {
    kind: 'wait',
    busy,
    deregister: idle,
    reason: `runner ${busy.map((r) => r.name).join(', ')} is busy; holding the instance (${mins(elapsed)} of ${mins(input.deadlineMs)})`,
  };
}
