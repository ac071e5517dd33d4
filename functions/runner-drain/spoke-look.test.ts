import type { Context, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { type AwsScope, scopeKey, type Topology } from '../../shared/aws/scope';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { createInScopes } from '../../shared/kernel/queue-scopes';
import type { Handler } from '../../shared/kernel/remediation';
import { InMemoryDrainScheduler } from '../../shared/runners/drain-scheduler';
import { InMemoryDrainState } from '../../shared/runners/drain-state';
import type { DrainQueueMessage } from '../../shared/runners/lifecycle-event';
import { runnerDrain } from './definition';
import { DRAIN_INSTANCE, DRAIN_T0, drainBatch, drainSettings } from './testing';

/**
 * runner-drain's scheduled look in a hub with spokes: the hub's look fans out one look per spoke
 * onto the drain's own queue; each runs in its spoke (that spoke's Auto Scaling) and finds the
 * instances there whose lifecycle event was lost. A spoke's look never fans out again.
 */
const HUB: AwsScope = { account: '123456789012', region: 'eu-west-1' };
const SPOKE: AwsScope = { account: '210987654321', region: 'us-east-1' };
const TOPOLOGY: Topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };
const I = DRAIN_INSTANCE;
let now = DRAIN_T0;

const scheduled = (k = 1, scope: AwsScope = HUB) => ({
  version: '0',
  id: `sched-${k}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: scope.account,
  region: scope.region,
  time: new Date(now).toISOString(),
  resources: [`arn:aws:events:${scope.region}:${scope.account}:rule/DrainLook`],
  detail: {},
});
let seq = 0;
const sqs = (...bodies: unknown[]): SQSEvent =>
  drainBatch(bodies, () => `m-${++seq}`, { ApproximateReceiveCount: '1' });
const ctx = {} as Context;

let lifecycle: Map<string, InMemoryLifecycleActions>;
let scheduler: InMemoryDrainScheduler;
let audit: InMemoryAuditSink;
let handler: Handler<SQSEvent, { batchItemFailures: unknown[] }>;
const lifecycleIn = (s: AwsScope) => lifecycle.get(scopeKey(s)) as InMemoryLifecycleActions;
const sent = (): DrainQueueMessage[] => scheduler.scheduled.splice(0).map((s) => s.message);
const ref = (instanceId = I) => ({
  autoScalingGroupName: 'ci-runners',
  lifecycleHookName: 'fleetwarden-drain',
  lifecycleActionToken: `tok-${instanceId}`,
  instanceId,
});

beforeEach(() => {
  now = DRAIN_T0;
  seq = 0;
  lifecycle = new Map([HUB, SPOKE].map((s) => [scopeKey(s), new InMemoryLifecycleActions(() => now)]));
  // Auto Scaling in the spoke started the fleet's terminate lifecycle action; its event was lost
  lifecycleIn(SPOKE).begin(ref(), 300_000);
  scheduler = new InMemoryDrainScheduler();
  audit = new InMemoryAuditSink();
  const registry = new InMemoryRunnerRegistry();
  const state = new InMemoryDrainState();
  const runtime = { now: () => new Date(now), gate: REPORT_ONLY_GATE, topology: TOPOLOGY };
  handler = createInScopes({
    name: 'runner-drain',
    topology: TOPOLOGY,
    audit,
    mode: 'live',
    portsFor: (scope) => ({
      registry,
      lifecycleActions: lifecycleIn(scope ?? HUB),
      drainScheduler: scheduler,
      drainState: state,
    }),
    create: (ports) => runnerDrain.create(ports, drainSettings(), runtime),
  }) as never;
});

describe('runner-drain: the scheduled look covers every spoke', () => {
  it("the hub's look sends one look per spoke onto the drain's own queue, audited", async () => {
    const res = await handler(sqs(scheduled()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    const [spokeLook, ...rest] = sent();
    expect(rest).toEqual([]);
    expect(spokeLook).toMatchObject({
      source: 'fleetwarden.drain-spoke-look',
      id: `sched-1/${SPOKE.account}/${SPOKE.region}`,
      account: SPOKE.account,
      region: SPOKE.region,
    });
    // the hub's own look found nothing in the hub: the fan-out is the one decision of the tick
    expect(audit.all().map((r) => [r.action, r.decision])).toEqual([['drain.look-spokes', 'acted']]);
    expect(audit.all()[0]?.details).toMatchObject({ spokes: [scopeKey(SPOKE)] });
    expect(lifecycleIn(HUB).calls).toMatchObject({ heartbeat: 0 });
  });

  it("the spoke's look lists the spoke's groups and starts the drain there, in the spoke's scope", async () => {
    await handler(sqs(scheduled()), ctx);
    await handler(sqs(...sent()), ctx);
    const [adopted, ...rest] = sent();
    expect(rest).toEqual([]);
    expect(adopted).toMatchObject({
      source: 'fleetwarden.drain-look',
      account: SPOKE.account,
      region: SPOKE.region,
      detail: { EC2InstanceId: I, AutoScalingGroupName: 'ci-runners' },
    });
    const adopt = audit.all().find((r) => r.action === 'drain.adopt');
    expect(adopt).toMatchObject({ decision: 'acted', account: SPOKE.account, region: SPOKE.region });
    // the drain it started heartbeats the spoke's lifecycle action, never the hub's
    await handler(sqs(adopted), ctx);
    expect(lifecycleIn(SPOKE).calls.heartbeat + lifecycleIn(SPOKE).calls.complete).toBeGreaterThan(0);
    expect(lifecycleIn(HUB).calls).toMatchObject({ heartbeat: 0, complete: 0 });
  });

  it("a spoke's look never fans out again, and a schedule claiming a spoke does not fan out", async () => {
    await handler(sqs(scheduled()), ctx);
    const [spokeLook] = sent();
    // nothing is leaving in the spoke: whatever the spoke's look sends, it is no look of its own
    await lifecycleIn(SPOKE).complete(ref(), 'CONTINUE');
    await handler(sqs(spokeLook), ctx);
    expect(sent()).toEqual([]);
    await handler(sqs(scheduled(2, SPOKE)), ctx);
    expect(sent()).toEqual([]);
    const refusal = audit.all().at(-1);
    expect(refusal).toMatchObject({ action: 'drain.look-spokes', decision: 'refused' });
    expect(refusal?.reason).toMatch(/only the hub's look fans out/);
  });

  it('a look for an unknown account is refused (trust.unknown-account) and reads nothing', async () => {
    const unknown = {
      id: 'sched-1/999999999999/eu-west-1',
      source: 'fleetwarden.drain-spoke-look',
      'detail-type': 'Drain Spoke Look',
      time: new Date(now).toISOString(),
      account: '999999999999',
      region: 'eu-west-1',
    };
    const res = await handler(sqs(unknown), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(audit.all().map((r) => [r.action, r.decision])).toEqual([['trust.unknown-account', 'refused']]);
    expect(sent()).toEqual([]);
  });
});
