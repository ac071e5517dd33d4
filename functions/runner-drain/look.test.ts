import type { Context, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { InMemoryDrainScheduler } from '../../shared/runners/drain-scheduler';
import { InMemoryDrainState } from '../../shared/runners/drain-state';
import type { DrainQueueMessage } from '../../shared/runners/lifecycle-event';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { runnerDrain } from './definition';
import { DRAIN_INSTANCE, DRAIN_T0, drainBatch, drainSettings, lifecycleEvent } from './testing';

/**
 * runner-drain's scheduled look: a terminate lifecycle action whose event was lost (EventBridge
 * delivers Auto Scaling's events best-effort) is found in Auto Scaling and drained like an event's.
 */
const I = DRAIN_INSTANCE;
const OTHER = 'i-0fedcba98765432100';
const T0 = DRAIN_T0;
let now = T0;

const scheduled = (k = 1) => ({
  version: '0',
  id: `sched-${k}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  region: 'eu-west-1',
  time: new Date(now).toISOString(),
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/DrainLook'],
  detail: {},
});
let seq = 0;
const sqs = (...bodies: unknown[]): SQSEvent =>
  drainBatch(bodies, () => `m-${++seq}`, { ApproximateReceiveCount: '1' });
const ctx = {} as Context;

let registry: InMemoryRunnerRegistry;
let lifecycle: InMemoryLifecycleActions;
let scheduler: InMemoryDrainScheduler;
let audit: InMemoryAuditSink;
let state: InMemoryDrainState;
const settings = drainSettings;
const handler = (dryRun = false) =>
  runnerDrain.create(
    { registry, lifecycleActions: lifecycle, drainScheduler: scheduler, audit, drainState: state },
    settings(dryRun),
    { now: () => new Date(now), gate: REPORT_ONLY_GATE },
  );
const ref = (token = 'tok-1', instanceId = I, autoScalingGroupName = 'ci-runners') => ({
  autoScalingGroupName,
  lifecycleHookName: 'fleetwarden-drain',
  lifecycleActionToken: token,
  instanceId,
});
const records = () => audit.all().map((a) => [a.action, a.decision, a.subject.instanceId]);
/** What the handler put on its own queue, and empties it (as SQS delivering it would). */
const sent = (): DrainQueueMessage[] => scheduler.scheduled.splice(0).map((s) => s.message);
const busyRunner = () =>
  registry.register({ name: `ci-${I}`, busy: true, labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`] });

beforeEach(() => {
  now = T0;
  seq = 0;
  registry = new InMemoryRunnerRegistry();
  lifecycle = new InMemoryLifecycleActions(() => now);
  // Auto Scaling started the fleet's terminate lifecycle action; its event never arrived
  lifecycle.begin(ref(), 300_000);
  scheduler = new InMemoryDrainScheduler();
  audit = new InMemoryAuditSink();
  state = new InMemoryDrainState();
});

describe('runner-drain: the scheduled look for lost lifecycle events', () => {
  it("looks every minute: inside the hook's heartbeat timeout (240 s at least)", () => {
    expect(runnerDrain.triggers).toContainEqual({ kind: 'schedule', minutes: 1 });
  });

  it('finds an instance in Terminating:Wait that no drain has looked at, audits it and starts its drain', async () => {
    now += 40_000;
    const res = await handler()(sqs(scheduled()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(records()).toEqual([['drain.adopt', 'acted', I]]);
    expect(audit.all()[0]?.reason).toMatch(/found leaving without a drain/);
    const [adopted, ...rest] = sent();
    expect(rest).toEqual([]);
    // the event's shape, from Auto Scaling's word, without a token (no API returns it)
    expect(adopted).toMatchObject({
      source: 'fleetwarden.drain-look',
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      account: '123456789012',
      region: 'eu-west-1',
      detail: {
        AutoScalingGroupName: 'ci-runners',
        LifecycleHookName: 'fleetwarden-drain',
        EC2InstanceId: I,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    });
    expect(adopted).not.toHaveProperty('detail.LifecycleActionToken');
  });

  it('the drain it starts holds a busy runner by instance id (never removes it), then deregisters and completes', async () => {
    const r = busyRunner();
    await handler()(sqs(scheduled()), ctx);
    await handler()(sqs(...sent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.calls.heartbeat).toBe(1);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    const [retry] = sent();
    expect(retry).toMatchObject({
      fleetwarden: 'drain-retry',
      attempt: 1,
      event: { source: 'fleetwarden.drain-look' },
    });
    // the heartbeat kept the action alive past its own timeout
    now += 250_000;
    await handler()(sqs(retry), ctx);
    now += 100_000;
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    registry.setBusy(r.id, false);
    await handler()(sqs(...sent()), ctx);
    expect(registry.deleted.map((d) => d.id)).toEqual([r.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(records().filter(([a]) => a !== 'drain.adopt')).toEqual([
      ['runner.cordon', 'acted', I],
      ['lifecycle.heartbeat', 'acted', I],
      ['lifecycle.heartbeat', 'acted', I],
      ['runner.deregister', 'acted', I],
      ['lifecycle.complete', 'acted', I],
    ]);
  });

  it('leaves an instance whose event-started drain is under way to it (the look does not double it)', async () => {
    busyRunner();
    await handler()(sqs(lifecycleEvent()), ctx);
    sent();
    now += 60_000;
    await handler()(sqs(scheduled()), ctx);
    expect(sent()).toEqual([]);
    expect(audit.all().at(-1)).toMatchObject({ action: 'drain.look', decision: 'skipped' });
    expect(audit.all().at(-1)?.reason).toMatch(/a drain under way .*started by its lifecycle event/);
    // a second look does not start one either, nor does a look once the drain it started runs
    await handler()(sqs(scheduled(2)), ctx);
    expect(sent()).toEqual([]);
  });

  it('a drain it started stops when the lifecycle event arrives late and its own drain runs', async () => {
    busyRunner();
    await handler()(sqs(scheduled()), ctx);
    const [adopted] = sent();
    await handler()(sqs(lifecycleEvent()), ctx);
    sent();
    const heartbeats = lifecycle.calls.heartbeat;
    await handler()(sqs(adopted), ctx);
    expect(lifecycle.calls.heartbeat).toBe(heartbeats);
    expect(sent()).toEqual([]);
    expect(audit.all().at(-1)).toMatchObject({ action: 'drain.adopt', decision: 'skipped' });
    expect(audit.all().at(-1)?.reason).toMatch(/another drain of i-\w+ is under way/);
  });

  it('only the configured groups, only Terminating:Wait: nothing else is recorded or started', async () => {
    lifecycle.place(OTHER, 'ci-runners', 'InService');
    lifecycle.begin(ref('tok-web', 'i-0aaaaaaaaaaaaaaa1', 'web'), 300_000);
    lifecycle.begin(ref('tok-2', 'i-0bbbbbbbbbbbbbbb2'), 300_000);
    await lifecycle.complete(ref('tok-2', 'i-0bbbbbbbbbbbbbbb2'), 'CONTINUE');
    await handler()(sqs(scheduled()), ctx);
    expect(records()).toEqual([['drain.adopt', 'acted', I]]);
  });

  it('in dry run the drain it starts still lets the instance go at once and deregisters nothing', async () => {
    busyRunner();
    await handler(true)(sqs(scheduled()), ctx);
    await handler(true)(sqs(...sent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(audit.all().every((a) => a.mode === 'dry-run')).toBe(true);
  });

  it('a drain it started is re-verified: an instance no longer waiting on the hook is left alone', async () => {
    busyRunner();
    await handler()(sqs(scheduled()), ctx);
    const [adopted] = sent();
    await lifecycle.complete(ref(), 'CONTINUE');
    lifecycle.place(I, 'ci-runners', 'InService');
    await handler()(sqs(adopted), ctx);
    expect(lifecycle.calls.heartbeat).toBe(0);
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.verify', decision: 'refused' });
  });

  it('a look that cannot read Auto Scaling is audited failed and the message fails (retried)', async () => {
    lifecycle.throttleNext(1);
    // a batch whose every message failed fails as a whole (SQS redelivers it)
    await expect(handler()(sqs(scheduled()), ctx)).rejects.toThrow(/All records failed/);
    expect(records()).toEqual([['drain.look', 'failed', undefined]]);
    expect(audit.all()[0]?.subject).toEqual({ autoScalingGroupName: 'ci-runners' });
  });
});

describe('runner-drain: the scheduled look and a scale-in back into the warm pool', () => {
  // a group whose warm pool takes instances back on scale-in: the fleet's terminate hook holds the
  // instance in Warmed:Pending:Wait (not Terminating:Wait), then Auto Scaling stops it; its event
  // can be lost like any other (AWS: "Use lifecycle hooks with a warm pool")
  const W = 'i-0aaaaaaaaaaaaaaa3';
  beforeEach(() => {
    lifecycle = new InMemoryLifecycleActions(() => now);
    lifecycle.begin(ref('tok-warm', W), 300_000, { warmPool: true });
  });

  it('adopts an instance held by the hook in Warmed:Pending:Wait that no drain has looked at', async () => {
    now += 40_000;
    await handler()(sqs(scheduled()), ctx);
    expect(records()).toEqual([['drain.adopt', 'acted', W]]);
    expect(audit.all()[0]?.reason).toMatch(/Warmed:Pending:Wait/);
    expect(sent()).toMatchObject([{ source: 'fleetwarden.drain-look', detail: { EC2InstanceId: W } }]);
  });

  it('the drain it starts holds a busy runner (its job is not killed by the stop), keeps it registered, then completes', async () => {
    const r = registry.register({
      name: `ci-${W}`,
      busy: true,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${W}`],
    });
    await handler()(sqs(scheduled()), ctx);
    await handler()(sqs(...sent()), ctx);
    expect(lifecycle.calls.heartbeat).toBe(1);
    expect(lifecycle.outcome('tok-warm')).toBeUndefined();
    registry.setBusy(r.id, false);
    now += 60_000;
    await handler()(sqs(...sent()), ctx);
    expect(lifecycle.outcome('tok-warm')).toBe('CONTINUE');
    // it comes back from the warm pool: its runner stays registered
    expect(registry.deleted).toEqual([]);
  });

  it('leaves it to a drain under way (its event arrived)', async () => {
    const event = lifecycleEvent('tok-warm', W);
    await handler()(
      sqs({ ...event, detail: { ...event.detail, Origin: 'AutoScalingGroup', Destination: 'WarmPool' } }),
      ctx,
    );
    sent();
    const before = audit.all().length;
    await handler()(sqs(scheduled()), ctx);
    expect(
      audit
        .all()
        .slice(before)
        .map((a) => [a.action, a.decision]),
    ).toEqual([['drain.look', 'skipped']]);
    expect(sent()).toEqual([]);
  });
});

describe('runner-drain: the scheduled look and a launch into the warm pool (not leaving)', () => {
  // a launch into the warm pool waits in Warmed:Pending:Wait too, on a launch hook (AWS, "Use
  // lifecycle hooks with a warm pool"); the group also has the fleet's terminate hook
  const W = 'i-0aaaaaaaaaaaaaaa3';
  beforeEach(() => {
    lifecycle = new InMemoryLifecycleActions(() => now);
    lifecycle.defineHook('ci-runners', 'fleetwarden-drain', 300_000);
    lifecycle.begin({ ...ref('tok-launch', W), lifecycleHookName: 'warm-up' }, 3_600_000, {
      warmPool: true,
      launch: true,
    });
    registry.register({
      name: `ci-${W}`,
      busy: false,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${W}`],
    });
  });

  it('never starts a drain of it, and never calls a lifecycle action on it, look after look', async () => {
    for (let minute = 0; minute < 10; minute++) {
      await handler()(sqs(scheduled(minute)), ctx);
      const out = sent();
      if (out.length) await handler()(sqs(...out), ctx);
      sent();
      now += 60_000;
    }
    expect(audit.all().filter((r) => r.action === 'drain.adopt')).toEqual([]);
    expect(lifecycle.calls.heartbeat + lifecycle.calls.complete).toBe(0);
    expect(registry.calls).toMatchObject({ listPages: 0, byName: 0 });
  });

  it('a drain started for it anyway (an earlier look) refuses it: launching, not leaving', async () => {
    const adopted = {
      ...lifecycleEvent('x', W),
      id: 'sched-0/adopted',
      source: 'fleetwarden.drain-look',
    };
    const { LifecycleActionToken: _, ...detail } = adopted.detail;
    await handler()(sqs({ ...adopted, detail }), ctx);
    expect(records()).toEqual([['lifecycle.verify', 'refused', W]]);
    expect(audit.all()[0]?.reason).toMatch(/launch/);
    expect(lifecycle.calls.heartbeat + lifecycle.calls.complete).toBe(0);
  });
});

describe('runner-drain: the scheduled look when a warm pool cannot be read', () => {
  // a spoke whose role does not grant DescribeWarmPool yet (the hub is deployed first), or a
  // throttled call: the group's own instances are still judged
  it('still adopts the Terminating:Wait instance of that group, records the failure, then fails the message', async () => {
    lifecycle.failWarmPool('ci-runners', 'AccessDenied');
    // retried (then dead-lettered, alarmed): a warm pool left unread is never silent
    await expect(handler()(sqs(scheduled()), ctx)).rejects.toThrow(/All records failed/);
    expect(records()).toEqual([
      ['drain.look', 'failed', undefined],
      ['drain.adopt', 'acted', I],
    ]);
    const failed = audit.all()[0];
    expect(failed?.subject).toEqual({ autoScalingGroupName: 'ci-runners' });
    expect(failed?.reason).toMatch(/DescribeWarmPool.*AccessDenied/);
    expect(sent()).toMatchObject([{ source: 'fleetwarden.drain-look', detail: { EC2InstanceId: I } }]);
  });
});
