import type { Context, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { InMemoryDrainScheduler } from '../../shared/runners/drain-scheduler';
import type { TerminateLifecycleEvent } from '../../shared/runners/lifecycle-event';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
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
    expect(audit.all()[0]?.githubCalls?.map((c) => c.route)).toBeDefined();
  });

  it('holds a busy runner: heartbeat, looks again later, never deregisters it', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(lifecycle.calls.heartbeat).toBe(1);
    expect(scheduler.scheduled).toEqual([
      { message: { fleetwarden: 'drain-retry', attempt: 1, event: lifecycleEvent() }, delaySeconds: 60 },
    ]);
    expect(audit.all().map((a) => [a.action, a.decision])).toEqual([['lifecycle.heartbeat', 'acted']]);
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

  it('fails the message (for SQS to redeliver) when GitHub is throttling the deregistration', async () => {
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

  it('reports malformed messages as batch item failures, not as success (a whole failed batch throws)', async () => {
    const res = await handler()(sqs(lifecycleEvent(), { hello: 'world' }), ctx);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    await expect(handler()(sqs({ hello: 'world' }), ctx)).rejects.toThrow(/All records failed/);
  });
});
