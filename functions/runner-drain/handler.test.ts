import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { GitHubApiError } from '../../shared/github/errors';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { InMemoryDrainScheduler } from '../../shared/runners/drain-scheduler';
import type { TerminateLifecycleEvent } from '../../shared/runners/lifecycle-event';
import { DRAINING_LABEL, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { createHandler } from './handler';

const I = 'i-0123456789abcdef0';
const T0 = Date.parse('2026-11-24T12:00:00Z');
let now = T0;

function lifecycleEvent(token = 'tok-1'): TerminateLifecycleEvent {
  return {
    id: `evt-${token}`,
    source: 'aws.autoscaling',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    time: new Date(T0).toISOString(),
    detail: {
      LifecycleActionToken: token,
      AutoScalingGroupName: 'ci-runners',
      LifecycleHookName: 'fleetwarden-drain',
      EC2InstanceId: I,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}
const sqs = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((b, n) => ({
    messageId: `m-${n}`,
    receiptHandle: 'r',
    body: JSON.stringify(b),
    attributes: {} as never,
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:drain',
    awsRegion: 'eu-west-1',
  })),
});
const ctx = {} as Context;

let registry: InMemoryRunnerRegistry;
let lifecycle: InMemoryLifecycleActions;
let scheduler: InMemoryDrainScheduler;
let audit: InMemoryAuditSink;
function handler(dryRun = false) {
  return createHandler({
    registry,
    lifecycle,
    scheduler,
    audit,
    dryRun,
    deadlineMs: 30 * 60_000,
    retryDelaySeconds: 60,
    autoScalingGroupNames: new Set(['ci-runners']),
    now: () => new Date(now),
  });
}
const ref = (token = 'tok-1') => ({
  autoScalingGroupName: 'ci-runners',
  lifecycleHookName: 'fleetwarden-drain',
  lifecycleActionToken: token,
  instanceId: I,
});

beforeEach(() => {
  now = T0;
  registry = new InMemoryRunnerRegistry();
  lifecycle = new InMemoryLifecycleActions(() => now);
  lifecycle.begin(ref(), 300_000);
  scheduler = new InMemoryDrainScheduler();
  audit = new InMemoryAuditSink();
});

describe('runner-drain', () => {
  it('deregisters the idle runner, completes the lifecycle action and audits both', async () => {
    const r = registry.register({ name: `ci-${I}`, labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`] });
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)).toBeUndefined();
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    const records = audit.all().map((a) => [a.action, a.decision]);
    expect(records).toEqual([
      ['runner.deregister', 'acted'],
      ['lifecycle.complete', 'acted'],
    ]);
    // the decision is tied to the runner it removed
    expect(audit.all()[0]).toMatchObject({ subject: { runnerId: r.id, runnerName: r.name, instanceId: I } });
  });

  it('holds a busy runner: heartbeat, looks again later, never deregisters it', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(lifecycle.calls.heartbeat).toBe(1);
    expect(scheduler.scheduled).toEqual([
      {
        message: { fleetwarden: 'drain-retry', attempt: 1, event: lifecycleEvent(), runnerIds: [1] },
        delaySeconds: 60,
      },
    ]);
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([
      ['runner.cordon', 'acted'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
  });

  it('cordons a busy runner once: its custom labels go, so the jobs asking for them stop landing on it', async () => {
    const r = registry.register({
      name: `ci-${I}`,
      busy: true,
      labels: ['self-hosted', 'Linux', 'X64', 'gpu-large', `${INSTANCE_LABEL_PREFIX}${I}`],
    });
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.findByName(r.name)?.labels.sort()).toEqual(
      ['self-hosted', 'Linux', 'X64', `${INSTANCE_LABEL_PREFIX}${I}`, DRAINING_LABEL].sort(),
    );
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(registry.calls.cordon).toBe(1);
    expect(audit.all().filter((a) => a.action === 'runner.cordon')).toHaveLength(1);
  });

  it('a failed cordon is audited failed but the instance is still held (heartbeat, look again)', async () => {
    registry.register({ name: `ci-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.cordonRunner = async () => {
      throw new GitHubApiError('PUT labels failed: 403', 403);
    };
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([
      ['runner.cordon', 'failed'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
    expect(scheduler.scheduled).toHaveLength(1);
  });

  it('on the retry after the job finished, deregisters and completes', async () => {
    const r = registry.register({ name: `ci-${I}`, busy: true });
    await handler()(sqs(lifecycleEvent()), ctx);
    registry.setBusy(r.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(registry.deleted.map((d) => d.id)).toEqual([r.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('completes at the drain deadline while still busy, without deregistering, and says why', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    now += 31 * 60_000;
    lifecycle.begin(ref('tok-2'), 3_600_000);
    await handler()(sqs(lifecycleEvent('tok-2')), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-2')).toBe('CONTINUE');
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.complete', decision: 'acted' });
    expect(audit.all().at(-1)?.reason).toMatch(/still busy .*deadline/);
  });

  it('records an expired or used token and stops (no retry loop)', async () => {
    registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] }); // idle: complete path
    now += 10 * 60_000; // heartbeat timeout (5 min) passed
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(scheduler.scheduled).toEqual([]);
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.complete', decision: 'skipped' });
    expect(audit.all().at(-1)?.reason).toMatch(/No active Lifecycle Action/i);
  });

  it('in dry run deregisters nothing but still completes the action (never holds an instance hostage)', async () => {
    registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    await handler(true)(sqs(lifecycleEvent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(audit.all()[0]).toMatchObject({
      action: 'runner.deregister',
      decision: 'reported',
      mode: 'dry-run',
    });
  });

  it('does not judge from a rate-limited listing: heartbeats and looks again instead of completing', async () => {
    registry.register({ name: `ci-${I}` });
    const first = await handler()(sqs(lifecycleEvent()), ctx);
    expect(first.batchItemFailures).toEqual([]);
    lifecycle.begin(ref('tok-3'), 300_000);
    registry.register({ name: `ci-${I}` });
    registry.exhaustRateLimit();
    const res = await handler()(sqs(lifecycleEvent('tok-3')), ctx);
    // listing failed: wait and heartbeat instead of judging
    expect(res.batchItemFailures).toEqual([]);
    expect(lifecycle.outcome('tok-3')).toBeUndefined();
    expect(scheduler.scheduled).toHaveLength(1);
  });

  it('fails the message (for SQS to redeliver) when the deregistration itself fails', async () => {
    const r = registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.deleteRunner = async () => {
      throw new Error('GitHub 500');
    };
    // a batch whose every record failed throws (Lambda retries the whole batch)
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    expect(registry.findByName(r.name)).toBeDefined();
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([['runner.deregister', 'failed']]);
  });

  it('keeps the record of the failed attempt when SQS redelivers the message and the retry succeeds', async () => {
    const r = registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    const remove = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async () => {
      throw new Error('GitHub 500');
    };
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    registry.deleteRunner = remove;
    const again = sqs(lifecycleEvent());
    (again.Records[0] as SQSRecord).attributes = { ApproximateReceiveCount: '2' } as never;
    expect((await handler()(again, ctx)).batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)).toBeUndefined();
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([
      ['runner.deregister', 'failed'],
      ['runner.deregister', 'acted'],
      ['lifecycle.complete', 'acted'],
    ]);
  });

  it('a runner that took a job between the listing and the DELETE (422) is held, audited skipped, not failed', async () => {
    const r = registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      registry.setBusy(id, true); // the job landed after we listed it idle
      return del(id);
    };
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)).toMatchObject({ busy: true });
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([
      ['runner.deregister', 'skipped'],
      ['runner.cordon', 'acted'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
    expect(scheduler.scheduled.map((x) => x.message.runnerIds)).toEqual([[r.id]]);
  });

  it('stops when the heartbeat finds the action gone: records it and schedules nothing (no endless loop)', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    now += 10 * 60_000; // the hook's heartbeat timeout (5 min) ran out
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(scheduler.scheduled).toEqual([]);
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.heartbeat', decision: 'skipped' });
    expect(audit.all().at(-1)?.reason).toMatch(/No active Lifecycle Action/);
  });

  it('a busy runner skipped by a page shift (concurrent delete mid-listing) is found by name and held', async () => {
    registry = new InMemoryRunnerRegistry({ perPage: 2 });
    const other = registry.register({ name: 'other-1' });
    registry.register({ name: 'other-2' });
    const mine = registry.register({ name: `ci-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.register({ name: 'other-4' });
    registry.beforeListPage = (page) => {
      if (page === 1 && registry.findByName('other-1')) registry.unregister(other.id); // shifts mine to page 0
    };
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.findByName(mine.name)).toBeDefined();
    // found by name: no second full listing (it costs 100 pages at 10,000 runners in a 60 s function)
    expect(registry.calls.listPages).toBe(2);
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([
      ['runner.cordon', 'acted'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
  });

  it('a runner with a custom name skipped by a page shift is found by the second listing (the next look) and drained', async () => {
    registry = new InMemoryRunnerRegistry({ perPage: 2 });
    const other = registry.register({ name: 'other-1' });
    registry.register({ name: 'other-2' });
    const mine = registry.register({ name: `gpu-pool-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.register({ name: 'other-4' });
    let churned = false;
    registry.beforeListPage = (page) => {
      if (page === 1 && !churned) {
        churned = true;
        registry.unregister(other.id);
      }
    };
    // first look: absent from the (shifted) listing and by its conventional names -> hold, look again
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.deleted).toEqual([]);
    // the next look's listing is the second listing: there it is, idle -> deregistered, then CONTINUE
    const [next] = scheduler.scheduled;
    expect(next?.message).toMatchObject({ absentOnce: true });
    await handler()(sqs(next?.message), ctx);
    expect(registry.deleted.map((d) => d.id)).toEqual([mine.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('lets an instance with no runner go on the next look: one listing and the name lookups per look, never two listings in one', async () => {
    registry = new InMemoryRunnerRegistry({ perPage: 2 });
    for (const n of [1, 2, 3, 4, 5]) registry.register({ name: `someone-else-${n}` });
    await handler()(sqs(lifecycleEvent()), ctx);
    // 5 runners at 2 per page: one listing is 3 pages (a second would make it 6, in a 60 s function)
    expect(registry.calls.listPages).toBe(3);
    expect(registry.calls.byName).toBeGreaterThan(0);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([['lifecycle.heartbeat', 'acted']]);
    const [next] = scheduler.scheduled;
    await handler()(sqs(next?.message), ctx);
    expect(registry.calls.listPages).toBe(6);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(audit.all().at(-1)?.reason).toMatch(/no runner .* in two listings/);
  });

  it('looks again by runner id, not by listing every page, once it knows the runner', async () => {
    registry = new InMemoryRunnerRegistry();
    for (let k = 0; k < 250; k++) registry.register({ name: `other-${k}` });
    const mine = registry.register({ name: `ci-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBe(3);
    const retry = scheduler.scheduled[0]?.message;
    expect(retry).toMatchObject({ runnerIds: [mine.id] });
    now += 60_000;
    await handler()(sqs(retry), ctx);
    expect(registry.calls.listPages).toBe(3);
    expect(registry.calls.get).toBe(1);
    expect(scheduler.scheduled).toHaveLength(2);
    registry.setBusy(mine.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[1]?.message), ctx);
    expect(registry.calls.listPages).toBe(3);
    expect(registry.deleted.map((d) => d.id)).toEqual([mine.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('reports malformed messages as batch item failures, not as success (a whole failed batch throws)', async () => {
    const res = await handler()(sqs(lifecycleEvent(), { hello: 'world' }), ctx);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    await expect(handler()(sqs({ hello: 'world' }), ctx)).rejects.toThrow(/All records failed/);
  });
});
