import type { Subject } from '../../shared/audit/schema';
import { ThrottledError } from '../../shared/core/errors';
import { GitHubApiError, RunnerBusyError } from '../../shared/github/errors';
import type { GitHubRunner } from '../../shared/github/port';
import { performUngated } from '../../shared/kernel/perform';
import { logger, metrics } from '../../shared/observability/powertools';
import { cordonLabels, DRAINING_LABEL } from '../../shared/runners/matching';
import { isGitHubFailure, type Settled } from './find-runners';
import type { Look } from './run';

const runnerSubject = (subject: Subject, runner: GitHubRunner): Subject => ({
  ...subject,
  runnerName: runner.name,
  runnerId: runner.id,
});

/** Deregister one idle runner through the kernel. True: it took a job meanwhile (422), held. */
async function deregisterOne(m: Look, runner: GitHubRunner): Promise<boolean> {
  const planned = {
    kind: 'deregister',
    subject: runnerSubject(m.subject, runner),
    reason: `runner ${runner.name} is idle on a terminating instance`,
  };
  const done = await performUngated(m.kit, planned, async () => {
    try {
      const r = await m.run.ports.registry.deleteRunner(runner.id);
      return {
        decision: 'acted' as const,
        reason:
          r === 'deleted'
            ? `deregistered idle runner ${runner.name} before termination`
            : `runner ${runner.name} was already gone (404)`,
      };
    } catch (err) {
      if (!(err instanceof RunnerBusyError)) throw err;
      return {
        decision: 'skipped' as const,
        reason: `runner ${runner.name} picked up a job meanwhile; holding the instance`,
      };
    }
  });
  return done.decision === 'skipped';
}

/**
 * Deregister these idle runners, one by one. A runner that took a job (422) comes back in `busy`;
 * a GitHub failure stops the round (`failed`, recorded failed by the kernel).
 */
async function deregisterAll(m: Look, runners: GitHubRunner[]) {
  const busy: GitHubRunner[] = [];
  for (const runner of runners) {
    try {
      if (await deregisterOne(m, runner)) busy.push(runner);
    } catch (err) {
      if (!isGitHubFailure(err)) throw err;
      return { busy, failed: `deregistration failed (${(err as Error).message})` };
    }
  }
  return { busy, failed: undefined };
}

/**
 * Deregister the idle runners of a decision (complete, deadline, or beside a busy one while
 * waiting). A runner that took a job (422) turns it into a wait; a GitHub failure too, unless past
 * the deadline (then complete without it: the sweep removes the registration later).
 */
export async function deregister(m: Look, decision: Settled, pastDeadline: boolean): Promise<Settled> {
  const idle = decision.kind === 'wait' ? (decision.deregister ?? []) : decision.deregister;
  if (idle.length === 0) return decision;
  const { busy, failed } = await deregisterAll(m, idle);
  if (decision.kind === 'wait')
    return {
      ...decision,
      busy: [...decision.busy, ...busy],
      seen: [...(decision.seen ?? []), ...idle],
      reason: failed ? `${decision.reason}; ${failed}` : decision.reason,
    };
  if (busy.length > 0) return { kind: 'wait', busy, seen: idle, reason: 'runner became busy during drain' };
  if (!failed) return decision;
  if (pastDeadline)
    return {
      ...decision,
      deregister: [],
      reason: `${decision.reason}; ${failed} until the drain deadline: completing without it (the sweep removes the runner later)`,
    };
  return { kind: 'wait', busy: [], reason: `${failed}; holding the instance and trying again`, seen: idle };
}

/**
 * Take a runner's custom labels away (once) so the jobs asking for them go elsewhere. A failed
 * cordon is recorded failed by the kernel; the drain's own duty (holding the instance) goes on.
 */
export async function cordonRunners(m: Look, runners: GitHubRunner[], subject: Subject, why: string) {
  const registry = m.run.ports.registry;
  const cordon = registry.cordonRunner?.bind(registry);
  if (!cordon) return;
  for (const runner of runners) {
    if (runner.labels.includes(DRAINING_LABEL)) continue;
    const labels = cordonLabels(runner);
    const planned = {
      kind: 'cordon',
      subject: runnerSubject(subject, runner),
      reason: `runner ${runner.name} ${why}`,
    };
    try {
      await performUngated(m.kit, planned, async () =>
        (await cordon(runner.id, labels)) === 'cordoned'
          ? {
              decision: 'acted',
              reason: `runner ${runner.name} ${why}: custom labels replaced by ${labels.join(', ')} so no job asking for them lands on it`,
            }
          : { decision: 'skipped', reason: `runner ${runner.name} is gone (404); nothing to cordon` },
      );
    } catch (err) {
      if (!(err instanceof GitHubApiError || err instanceof ThrottledError)) throw err;
      metrics.addMetric('CordonFailed', 'Count', 1);
      logger.warn('cordon failed; still holding the instance', { runnerId: runner.id, error: err });
    }
  }
}
