import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { ensureIntent } from '../../shared/aws/call-recorder';
import { GitHubApiError } from '../../shared/github/errors';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { censusOf } from '../../shared/runners/census';
import { InMemoryDrainScheduler } from '../../shared/runners/drain-scheduler';
import { DrainStateError, drainStateKey, InMemoryDrainState } from '../../shared/runners/drain-state';
import { DRAINING_LABEL, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { runnerDrain } from './definition';
import { DRAIN_ACTIONS } from './runtime';
import { DRAIN_INSTANCE, DRAIN_T0, drainBatch, drainSettings, lifecycleEvent } from './testing';
import { auditOnlyFromEnv, createLazyHandler, DrainWiringError } from './wiring';

const I = DRAIN_INSTANCE;
const T0 = DRAIN_T0;
let now = T0;

const sqs = (...bodies: unknown[]): SQSEvent => drainBatch(bodies, (n) => `m-${n}`);
const ctx = {} as Context;

let registry: InMemoryRunnerRegistry;
let lifecycle: InMemoryLifecycleActions;
let scheduler: InMemoryDrainScheduler;
let audit: InMemoryAuditSink;
let state: InMemoryDrainState;
/** What the drain keeps about an action between looks (its own state, never the message's). */
const stateOf = (token = 'tok-1') => state.begin(drainStateKey(I, token), new Date(now), new Date(now));
const settings = drainSettings;
const ports = () => ({
  registry,
  lifecycleActions: lifecycle,
  drainScheduler: scheduler,
  audit,
  drainState: state,
});
const runtime = () => ({ now: () => new Date(now), gate: REPORT_ONLY_GATE });
/** Another drain of the pool listed every runner just now: its census is shared through the state table. */
const listedByAnotherDrain = (at = now) =>
  state.recordCensus(censusOf(registry.snapshot(), new Date(at)), new Date(at + 3_600_000));
/**
 * Whether another drain of the pool listed every runner just before each look (the common case in a
 * fleet: its census lets a first look take the documented names as every runner of the instance).
 * Off in the tests of the drain's own listing.
 */
let sharedListing = true;
const withSharedListing =
  <R>(h: (event: SQSEvent, context?: Context) => Promise<R>) =>
  async (event: SQSEvent, context?: Context) => {
    if (sharedListing) await listedByAnotherDrain();
    return h(event, context);
  };
function handler(dryRun = false) {
  return withSharedListing(runnerDrain.create(ports(), settings(dryRun), runtime()));
}
/** The drain of a pool with labels (a pool of the `pools` list). */
function poolHandler(pool: string, labels: string[]) {
  return withSharedListing(
    runnerDrain.create(ports(), { ...settings(), poolName: pool, runnerLabels: labels }, runtime()),
  );
}
const ref = (token = 'tok-1') => ({
  autoScalingGroupName: 'ci-runners',
  lifecycleHookName: 'fleetwarden-drain',
  lifecycleActionToken: token,
  instanceId: I,
});

beforeEach(() => {
  sharedListing = true;
  now = T0;
  registry = new InMemoryRunnerRegistry();
  lifecycle = new InMemoryLifecycleActions(() => now);
  lifecycle.begin(ref(), 300_000);
  scheduler = new InMemoryDrainScheduler();
  audit = new InMemoryAuditSink();
  state = new InMemoryDrainState();
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

  it("a pool's drain touches only runners with all its labels, and every record names the pool", async () => {
    const mine = registry.register({
      name: `ci-${I}`,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`, 'linux'],
    });
    const other = registry.register({
      name: `gpu-${I}`,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`, 'gpu'],
    });
    await poolHandler('linux', ['linux'])(sqs(lifecycleEvent()), ctx);
    expect(registry.deleted.map((r) => r.id)).toEqual([mine.id]);
    expect(registry.findByName(other.name)).toBeDefined();
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(audit.all().map((a) => a.details.pool)).toEqual(['linux', 'linux']);
  });

  it('holds a busy runner: heartbeat, looks again later, never deregisters it', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(lifecycle.calls.heartbeat).toBe(1);
    expect(scheduler.scheduled).toEqual([
      {
        // which action and which look: nothing the next look must take as fact
        message: { fleetwarden: 'drain-retry', attempt: 1, event: lifecycleEvent() },
        delaySeconds: 60,
      },
    ]);
    // the runners seen and the first look are the drain's own state
    expect(await stateOf()).toEqual({ firstLookAt: new Date(T0), runnerIds: [1], absentOnce: false });
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
    lifecycle.begin(ref('tok-2'), 3_600_000); // the group began terminating at T0
    now += 31 * 60_000;
    await handler()(sqs(lifecycleEvent('tok-2')), ctx);
    expect(registry.deleted).toEqual([]);
    expect(lifecycle.outcome('tok-2')).toBe('CONTINUE');
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.complete', decision: 'acted' });
    expect(audit.all().at(-1)?.reason).toMatch(/still busy .*deadline/);
  });

  it('records an expired or used token and stops (no retry loop)', async () => {
    registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] }); // idle: complete path
    now += 10 * 60_000; // heartbeat timeout (5 min) passed
    lifecycle.place(I, 'ci-runners', 'Terminating:Wait'); // Describe* still shows it waiting (lag, or a race)
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
    expect((await stateOf()).runnerIds).toEqual([r.id]);
  });

  it('stops when the heartbeat finds the action gone: records it and schedules nothing (no endless loop)', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    now += 10 * 60_000; // the hook's heartbeat timeout (5 min) ran out
    lifecycle.place(I, 'ci-runners', 'Terminating:Wait'); // Describe* still shows it waiting (lag, or a race)
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(scheduler.scheduled).toEqual([]);
    expect(audit.all().at(-1)).toMatchObject({ action: 'lifecycle.heartbeat', decision: 'skipped' });
    expect(audit.all().at(-1)?.reason).toMatch(/No active Lifecycle Action/);
  });

  it('a busy runner skipped by a page shift (concurrent delete mid-listing) is found by name and held', async () => {
    // no other drain listed: this drain lists every page itself
    sharedListing = false;
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
    expect(await stateOf()).toMatchObject({ absentOnce: true });
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
    // another drain's listing since this drain's first look: the documented name is every runner
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBe(0);
    expect(registry.calls.byName).toBe(2);
    const retry = scheduler.scheduled[0]?.message;
    expect((await stateOf()).runnerIds).toEqual([mine.id]);
    now += 60_000;
    await handler()(sqs(retry), ctx);
    expect(registry.calls.listPages).toBe(0);
    expect(registry.calls.get).toBe(1);
    expect(scheduler.scheduled).toHaveLength(2);
    registry.setBusy(mine.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[1]?.message), ctx);
    expect(registry.calls.listPages).toBe(0);
    expect(registry.deleted.map((d) => d.id)).toEqual([mine.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('reports malformed messages as batch item failures, not as success (a whole failed batch throws)', async () => {
    const res = await handler()(sqs(lifecycleEvent(), { hello: 'world' }), ctx);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    await expect(handler()(sqs({ hello: 'world' }), ctx)).rejects.toThrow(/All records failed/);
  });
});

const kinds = () => audit.all().map((a) => [a.action, a.decision]);
const untouched = () => {
  expect(lifecycle.calls.heartbeat + lifecycle.calls.complete).toBe(0);
  expect(registry.deleted).toEqual([]);
};
const idleRunner = () => registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });

describe('runner-drain: only its own hook, only what Auto Scaling confirms', () => {
  it.each([false, true])(
    "ignores another hook's lifecycle action (dry run: %s): never heartbeats or completes it, audits it",
    async (dryRun) => {
      lifecycle.begin({ ...ref('tok-f'), lifecycleHookName: 'log-shipper' }, 300_000);
      idleRunner();
      const e = lifecycleEvent('tok-f');
      e.detail.LifecycleHookName = 'log-shipper';
      const res = await handler(dryRun)(sqs(e), ctx);
      expect(res.batchItemFailures).toEqual([]);
      untouched();
      expect(lifecycle.outcome('tok-f')).toBeUndefined();
      expect(kinds()).toEqual([['lifecycle.verify', 'skipped']]);
      expect(audit.all()[0]?.reason).toMatch(/hook log-shipper is not the fleet's \(fleetwarden-drain\)/);
    },
  );

  it('refuses a drain message for an instance Auto Scaling does not show in Terminating:Wait (e.g. InService)', async () => {
    idleRunner();
    lifecycle.place(I, 'ci-runners', 'InService');
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    untouched();
    expect(kinds()).toEqual([['lifecycle.verify', 'refused']]);
    expect(audit.all()[0]?.reason).toMatch(/InService/);
  });

  it('looks again (a few times, no heartbeat) while Auto Scaling still shows Terminating, before the hook holds it', async () => {
    idleRunner();
    lifecycle.place(I, 'ci-runners', 'Terminating'); // Describe* lags the hook's Terminating:Wait
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    untouched();
    expect(kinds()).toEqual([['lifecycle.verify', 'skipped']]);
    expect(
      scheduler.scheduled.map((x) => ['attempt' in x.message && x.message.attempt, x.delaySeconds]),
    ).toEqual([[1, 30]]);
    // still not waiting after 3 looks: refused, nothing scheduled
    const late = { fleetwarden: 'drain-retry', attempt: 3, event: lifecycleEvent() };
    await handler()(sqs(late), ctx);
    expect(kinds().at(-1)).toEqual(['lifecycle.verify', 'refused']);
    expect(scheduler.scheduled).toHaveLength(1);
  });

  it('refuses a drain message whose group is not the one Auto Scaling reports for the instance', async () => {
    idleRunner();
    lifecycle.place(I, 'someone-elses-asg', 'Terminating:Wait');
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    untouched();
    expect(kinds()).toEqual([['lifecycle.verify', 'refused']]);
    expect(audit.all()[0]?.reason).toMatch(/someone-elses-asg/);
  });

  it('drops (audited skipped) a message whose action is over: Terminating:Proceed, or an instance no group describes', async () => {
    idleRunner();
    await lifecycle.complete(ref(), 'CONTINUE');
    lifecycle.calls.complete = 0;
    const other = lifecycleEvent('tok-x');
    other.detail.EC2InstanceId = 'i-0aaaaaaaaaaaaaaa0';
    const res = await handler()(sqs(lifecycleEvent(), other), ctx);
    expect(res.batchItemFailures).toEqual([]);
    untouched();
    expect(kinds()).toEqual([
      ['lifecycle.verify', 'skipped'],
      ['lifecycle.verify', 'skipped'],
    ]);
    expect(audit.all().map((a) => a.reason)).toEqual([
      expect.stringMatching(/Terminating:Proceed/),
      expect.stringMatching(/no Auto Scaling group describes/),
    ]);
  });

  it('refuses (audited) an event time that is not a date, without failing the rest of the batch', async () => {
    idleRunner();
    const bad = { ...lifecycleEvent(), id: 'evt-bad', time: 'yesterday-ish' };
    const res = await handler()(sqs(bad, lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(kinds()).toEqual([
      ['lifecycle.verify', 'refused'],
      ['runner.deregister', 'acted'],
      ['lifecycle.complete', 'acted'],
    ]);
    expect(audit.all()[0]?.reason).toMatch(/not a valid time/);
  });

  it('refuses (audited) an event dated more than a few minutes in the future', async () => {
    idleRunner();
    const e = { ...lifecycleEvent(), time: new Date(T0 + 60 * 60_000).toISOString() };
    const res = await handler()(sqs(e), ctx);
    expect(res.batchItemFailures).toEqual([]);
    untouched();
    expect(kinds()).toEqual([['lifecycle.verify', 'refused']]);
    expect(audit.all()[0]?.reason).toMatch(/future/);
  });

  it("takes the drain deadline from the group's own activity start, not from the message's time", async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    // the message claims the action began 31 min ago; Auto Scaling began it now
    const e = { ...lifecycleEvent(), time: new Date(T0 - 31 * 60_000).toISOString() };
    await handler()(sqs(e), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(kinds()).toEqual([
      ['runner.cordon', 'acted'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
  });

  it("looks again within the hook's own heartbeat timeout (DescribeLifecycleHooks), not only the configured delay", async () => {
    lifecycle.begin(ref('tok-short'), 60_000); // a hook managed elsewhere, 60 s heartbeat
    registry.register({ name: `ci-${I}`, busy: true });
    await handler()(sqs(lifecycleEvent('tok-short')), ctx);
    expect(scheduler.scheduled.map((x) => x.delaySeconds)).toEqual([20]);
  });

  it('audits a malformed message (failed, with its message id) before it fails and is redelivered', async () => {
    const res = await handler()(sqs(lifecycleEvent(), { hello: 'world' }), ctx);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const rec = audit.all().find((a) => a.action === 'drain.message');
    expect(rec).toMatchObject({ decision: 'failed', trigger: { id: 'm-1' } });
    expect(rec?.reason).toMatch(/MalformedEventError/);
  });
});

describe('runner-drain: warm pools', () => {
  const warmEvent = () => {
    const e = lifecycleEvent();
    return { ...e, detail: { ...e.detail, Origin: 'AutoScalingGroup', Destination: 'WarmPool' } };
  };

  it('an instance going back to the warm pool keeps its runner registered (it comes back), then CONTINUE', async () => {
    lifecycle.begin(ref(), 300_000, { warmPool: true });
    const r = idleRunner();
    const res = await handler()(sqs(warmEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)).toBeDefined();
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
    expect(kinds()).toEqual([['lifecycle.complete', 'acted']]);
    expect(audit.all()[0]?.reason).toMatch(/warm pool/);
  });

  it('a busy runner going to the warm pool is held (heartbeat) but not cordoned: its labels must survive the return', async () => {
    lifecycle.begin(ref(), 300_000, { warmPool: true });
    const r = registry.register({
      name: `ci-${I}`,
      busy: true,
      labels: ['gpu', `${INSTANCE_LABEL_PREFIX}${I}`],
    });
    await handler()(sqs(warmEvent()), ctx);
    expect(registry.findByName(r.name)?.labels).toEqual(['gpu', `${INSTANCE_LABEL_PREFIX}${I}`]);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(kinds()).toEqual([['lifecycle.heartbeat', 'acted']]);
  });
});

describe('runner-drain: a deregistration that keeps failing', () => {
  it('keeps the hook alive (heartbeat, look again) when GitHub answers 5xx, instead of failing before any heartbeat', async () => {
    const r = idleRunner();
    registry.deleteRunner = async () => {
      throw new GitHubApiError('DELETE runner failed: 502', 502);
    };
    const res = await handler()(sqs(lifecycleEvent()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)).toBeDefined();
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(kinds()).toEqual([
      ['runner.deregister', 'failed'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
    expect((await stateOf()).runnerIds).toEqual([r.id]);
  });

  it('at the drain deadline completes without the deregistration (the sweep removes the runner later), and says so', async () => {
    lifecycle.begin(ref('tok-2'), 3_600_000);
    idleRunner();
    registry.deleteRunner = async () => {
      throw new GitHubApiError('DELETE runner failed: 503', 503);
    };
    now += 31 * 60_000;
    const res = await handler()(sqs(lifecycleEvent('tok-2')), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(lifecycle.outcome('tok-2')).toBe('CONTINUE');
    expect(kinds()).toEqual([
      ['runner.deregister', 'failed'],
      ['lifecycle.complete', 'acted'],
    ]);
    expect(audit.all().at(-1)?.reason).toMatch(/deregistration failed .*deadline/);
  });
});

describe('runner-drain: spot interruption warnings', () => {
  const warning = (instanceId = I) => ({
    version: '0',
    id: 'spot-1',
    source: 'aws.ec2',
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    time: new Date(T0).toISOString(),
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  });

  it("cordons a fleet instance's runner at once, so it takes no new job in its last two minutes", async () => {
    lifecycle.place(I, 'ci-runners', 'InService');
    const r = registry.register({
      name: `ci-${I}`,
      busy: true,
      labels: ['gpu', `${INSTANCE_LABEL_PREFIX}${I}`],
    });
    const res = await handler()(sqs(warning()), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(registry.findByName(r.name)?.labels).toContain(DRAINING_LABEL);
    expect(registry.findByName(r.name)?.labels).not.toContain('gpu');
    expect(kinds()).toEqual([['runner.cordon', 'acted']]);
    untouched();
  });

  it('refuses (audited) a warning for an instance outside the configured groups, and in dry run only reports', async () => {
    lifecycle.place(I, 'someone-elses-asg', 'InService');
    const r = registry.register({ name: `ci-${I}`, labels: ['gpu', `${INSTANCE_LABEL_PREFIX}${I}`] });
    await handler()(sqs(warning()), ctx);
    expect(kinds()).toEqual([['spot.interruption', 'refused']]);
    lifecycle.place(I, 'ci-runners', 'InService');
    await handler(true)(sqs({ ...warning(), id: 'spot-2' }), ctx);
    expect(registry.findByName(r.name)?.labels).toContain('gpu');
    expect(kinds().at(-1)).toEqual(['runner.cordon', 'reported']);
  });
});

describe('runner-drain: several runners on one instance', () => {
  const on = (name: string, busy = false, labels: string[] = []) =>
    registry.register({ name, busy, labels: [...labels, `${INSTANCE_LABEL_PREFIX}${I}`] });

  it('deregisters an idle runner at once while a busy one holds the instance, and carries both', async () => {
    const a = on('agent-a', true);
    const b = on('agent-b');
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    // B can take no job while A's holds the instance: it is gone
    expect(registry.deleted.map((d) => d.id)).toEqual([b.id]);
    expect(kinds()).toEqual([
      ['runner.deregister', 'acted'],
      ['runner.cordon', 'acted'],
      ['lifecycle.heartbeat', 'acted'],
    ]);
    registry.setBusy(a.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(registry.deleted.map((d) => d.id)).toEqual([b.id, a.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('never completes while a runner seen idle on an earlier look took a job since (warm pool: kept registered)', async () => {
    lifecycle.begin(ref(), 300_000, { warmPool: true });
    const a = on('agent-a', true);
    const b = on('agent-b');
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    registry.setBusy(a.id, false);
    registry.setBusy(b.id, true); // B picked up a job meanwhile
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(kinds().at(-1)).toEqual(['lifecycle.heartbeat', 'acted']);
    expect(audit.all().at(-1)?.reason).toMatch(/agent-b is busy/);
  });

  it('an idle runner that took a job at its DELETE (422) is held and read again with the busy one', async () => {
    const a = on('agent-a', true);
    const b = on('agent-b');
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      if (id === b.id) registry.setBusy(id, true);
      return del(id);
    };
    await handler()(sqs(lifecycleEvent()), ctx);
    registry.setBusy(a.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.findByName('agent-b')).toMatchObject({ busy: true });
  });

  it('a look while a known runner is busy reads it by id only: no name lookup until it could complete', async () => {
    const a = on('agent-a', true);
    await handler()(sqs(lifecycleEvent()), ctx);
    const before = { ...registry.calls };
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    // one GitHub request a look while the job runs (many drains share the App's rate limit)
    expect({ get: registry.calls.get - before.get, byName: registry.calls.byName - before.byName }).toEqual({
      get: 1,
      byName: 0,
    });
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    registry.setBusy(a.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled.at(-1)?.message), ctx);
    // the look that could complete looks the documented names up first
    expect(registry.calls.byName - before.byName).toBeGreaterThan(0);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('while a known runner is busy, the documented names are looked up again within 5 min: an idle re-registration is deregistered before it takes a job', async () => {
    on('agent-a', true);
    await handler()(sqs(lifecycleEvent()), ctx);
    const b = on(`ci-${I}`, false); // registered under the documented name while agent-a works
    for (let look = 1; look <= 6 && !registry.deleted.some((d) => d.id === b.id); look++) {
      now += 60_000;
      await handler()(sqs(scheduler.scheduled.at(-1)?.message), ctx);
    }
    expect(registry.deleted.map((d) => d.id)).toContain(b.id);
    expect(now - T0).toBeLessThanOrEqual(360_000);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
  });

  it('a new registration under the conventional name is found on a look by id (name lookup) before completing', async () => {
    const a = on('agent-a', true);
    await handler()(sqs(lifecycleEvent()), ctx);
    on(`ci-${I}`, true); // an ephemeral runner re-registered on the instance meanwhile
    registry.setBusy(a.id, false);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.findByName(`ci-${I}`)).toBeDefined();
  });
});

describe('runner-drain: name lookups first, every runner of the instance still seen', () => {
  beforeEach(() => {
    sharedListing = false;
  });
  const mine = (name: string, busy = false) =>
    registry.register({ name, busy, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
  const crowd = () => {
    for (let k = 0; k < 250; k++) registry.register({ name: `other-${k}` });
  };

  it('trusts the lookup by documented name once a listing begun since its first look (another drain) saw no other name for the instance: no page read', async () => {
    crowd();
    const r = mine(`ci-${I}`);
    await listedByAnotherDrain();
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBe(0);
    expect(registry.deleted.map((d) => d.id)).toEqual([r.id]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });

  it('a busy runner under another name beside the documented one holds the instance: the census names it, the drain lists', async () => {
    const documented = mine(`ci-${I}`);
    mine(`gpu-pool-${I}`, true);
    await listedByAnotherDrain();
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBeGreaterThan(0);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.deleted.map((d) => d.id)).toEqual([documented.id]);
    expect(kinds().at(-1)).toEqual(['lifecycle.heartbeat', 'acted']);
  });

  it('alone (no other drain asked for a listing lately) it lists every page at once and shares the listing', async () => {
    mine(`ci-${I}`);
    const busy = mine(`gpu-pool-${I}`, true);
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBe(1);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.findByName(busy.name)).toBeDefined();
    expect(await state.census(new Date(now))).toMatchObject({
      census: { takenAt: new Date(now), otherNames: [I] },
    });
  });

  it('when other drains wait for a listing too it waits one look (no page read), then lists and shares it', async () => {
    crowd();
    mine(`ci-${I}`);
    const busy = mine(`gpu-pool-${I}`, true);
    await state.census(new Date(now - 10_000)); // another drain asked 10 s ago
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(registry.calls.listPages).toBe(0);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(kinds()).toEqual([['lifecycle.heartbeat', 'acted']]);
    now += 60_000;
    await handler()(sqs(scheduler.scheduled[0]?.message), ctx);
    expect(registry.calls.listPages).toBe(3);
    expect(lifecycle.outcome('tok-1')).toBeUndefined();
    expect(registry.findByName(busy.name)).toBeDefined();
    expect((await state.census(new Date(now))).census).toEqual({ takenAt: new Date(now), otherNames: [I] });
  });

  it('a listing older than its first look is not trusted (a runner registered since under another name would be missed)', async () => {
    mine(`ci-${I}`);
    await listedByAnotherDrain(now - 1000);
    mine(`gpu-pool-${I}`, true);
    await handler()(sqs(lifecycleEvent()), ctx);
    expect(lifecycle.calls.complete).toBe(0);
    expect(kinds().at(-1)).toEqual(['lifecycle.heartbeat', 'acted']);
  });
});

describe('runner-drain: a drain retry message is a hint, never the source of its facts', () => {
  it('a forged startedAt in the past does not shorten the deadline (activity not listed by Auto Scaling)', async () => {
    registry.register({ name: `ci-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    lifecycle.place(I, 'ci-runners', 'Terminating:Wait'); // no scaling activity listed for it
    const forged = {
      fleetwarden: 'drain-retry',
      attempt: 1,
      event: lifecycleEvent(),
      startedAt: new Date(T0 - 31 * 60_000).toISOString(),
    };
    const res = await handler()(sqs(forged), ctx);
    expect(res.batchItemFailures).toEqual([]);
    expect(lifecycle.calls.complete).toBe(0);
    expect(kinds().at(-1)).toEqual(['lifecycle.heartbeat', 'acted']);
  });

  it('a forged absentOnce does not skip the second look (a runner hidden by a page shift is not released)', async () => {
    registry = new InMemoryRunnerRegistry({ perPage: 2 });
    const other = registry.register({ name: 'other-1' });
    registry.register({ name: 'other-2' });
    registry.register({ name: `gpu-pool-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.register({ name: 'other-4' });
    registry.beforeListPage = (page) => {
      if (page === 1 && registry.findByName('other-1')) registry.unregister(other.id);
    };
    const forged = { fleetwarden: 'drain-retry', attempt: 1, event: lifecycleEvent(), absentOnce: true };
    await handler()(sqs(forged), ctx);
    expect(lifecycle.calls.complete).toBe(0);
  });

  it('forged runnerIds do not replace the listing (a busy runner not named in them still holds the instance)', async () => {
    const x = registry.register({ name: `ci-${I}`, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    registry.register({ name: `gpu-pool-${I}`, busy: true, labels: [`${INSTANCE_LABEL_PREFIX}${I}`] });
    const forged = { fleetwarden: 'drain-retry', attempt: 1, event: lifecycleEvent(), runnerIds: [x.id] };
    await handler()(sqs(forged), ctx);
    expect(lifecycle.calls.complete).toBe(0);
  });
});

describe('runner-drain: every message that fails for good leaves a failed record', () => {
  it('a look-again that cannot be scheduled after the heartbeat is audited failed (and fails the message)', async () => {
    registry.register({ name: `ci-${I}`, busy: true });
    scheduler.later = async () => {
      throw new Error('SQS SendMessage: AccessDenied');
    };
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    expect(kinds().at(-1)).toEqual(['drain.retry', 'failed']);
    expect(audit.all().at(-1)?.reason).toMatch(/AccessDenied/);
  });

  it('a look-again that cannot be scheduled while Auto Scaling lags is audited failed too', async () => {
    idleRunner();
    lifecycle.place(I, 'ci-runners', 'Terminating');
    scheduler.later = async () => {
      throw new Error('SQS SendMessage: AccessDenied');
    };
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    expect(kinds().at(-1)).toEqual(['drain.retry', 'failed']);
  });
});

describe('runner-drain: spot warnings that do not end the instance', () => {
  it.each(['stop', 'hibernate'])(
    'a %s warning cordons nothing (the instance comes back, nothing would lift the cordon): audited skipped',
    async (action) => {
      lifecycle.place(I, 'ci-runners', 'InService');
      const r = registry.register({ name: `ci-${I}`, labels: ['gpu', `${INSTANCE_LABEL_PREFIX}${I}`] });
      const w = {
        version: '0',
        id: 'spot-1',
        source: 'aws.ec2',
        'detail-type': 'EC2 Spot Instance Interruption Warning',
        time: new Date(T0).toISOString(),
        detail: { 'instance-id': I, 'instance-action': action },
      };
      const res = await handler()(sqs(w), ctx);
      expect(res.batchItemFailures).toEqual([]);
      expect(registry.findByName(r.name)?.labels).toContain('gpu');
      expect(kinds()).toEqual([['spot.interruption', 'skipped']]);
      expect(audit.all()[0]?.reason).toMatch(new RegExp(`${action}.*comes back`));
    },
  );
});

describe('runner-drain: a handler that cannot be wired', () => {
  const groups = new Set(['ci-runners']);
  const broken = () =>
    createLazyHandler(
      async () => {
        throw new Error('GitHub App secret is not filled in');
      },
      () => ({ audit, dryRun: false, autoScalingGroupNames: groups }),
      () => new Date(now),
    );

  it('leaves a failed drain.message record per message (the audit table is wireable), then fails', async () => {
    const err = await broken()(sqs(lifecycleEvent(), { hello: 'world' }), ctx).catch((e) => e);
    expect(err).toBeInstanceOf(DrainWiringError);
    expect(kinds()).toEqual([
      ['drain.message', 'failed'],
      ['drain.message', 'failed'],
    ]);
    expect(audit.all()[0]).toMatchObject({
      subject: { instanceId: I },
      trigger: { id: 'm-0' },
      mode: 'live',
    });
    expect(audit.all()[1]).toMatchObject({
      subject: { autoScalingGroupName: 'ci-runners' },
      trigger: { id: 'm-1' },
    });
    expect(audit.all()[0]?.reason).toMatch(/GitHub App secret is not filled in/);
  });

  it('tries the wiring again on the next batch (a secret filled in later is picked up)', async () => {
    let fail = true;
    const h = createLazyHandler(
      async () => {
        if (fail) throw new Error('secret empty');
        return withSharedListing(runnerDrain.create(ports(), settings(), runtime()));
      },
      () => ({ audit, dryRun: false, autoScalingGroupNames: groups }),
    );
    await expect(h(sqs(lifecycleEvent()), ctx)).rejects.toBeInstanceOf(DrainWiringError);
    fail = false;
    idleRunner();
    expect((await h(sqs(lifecycleEvent()), ctx)).batchItemFailures).toEqual([]);
    expect(lifecycle.outcome('tok-1')).toBe('CONTINUE');
  });
});

describe('runner-drain: the audit table alone, for a wiring that failed', () => {
  it('is read from the audit and drain settings, and is absent without the audit table', () => {
    expect(auditOnlyFromEnv({ DRY_RUN: 'false' })).toBeUndefined();
    const a = auditOnlyFromEnv({ AUDIT_TABLE_NAME: 'audit', AUTO_SCALING_GROUP_NAMES: 'ci-runners,gpu' });
    expect(a).toMatchObject({ dryRun: true, autoScalingGroupNames: new Set(['ci-runners', 'gpu']) });
    expect(auditOnlyFromEnv({ AUDIT_TABLE_NAME: 'audit', DRY_RUN: 'false' })?.dryRun).toBe(false);
  });
});

describe('runner-drain: its own state unreadable', () => {
  it('audits drain.state failed and fails the message before any heartbeat or completion', async () => {
    idleRunner();
    await listedByAnotherDrain();
    sharedListing = false;
    state.failNext();
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    untouched();
    expect(kinds()).toEqual([['drain.state', 'failed']]);
  });

  it('a runner census that cannot be read is audited drain.state failed and fails the message too', async () => {
    idleRunner();
    sharedListing = false;
    vi.spyOn(state, 'census').mockRejectedValueOnce(new DrainStateError('census read failed'));
    await expect(handler()(sqs(lifecycleEvent()), ctx)).rejects.toThrow(/All records failed/);
    untouched();
    expect(kinds()).toEqual([['drain.state', 'failed']]);
  });
});

describe("runner-drain: what only the deployment reads stays out of the Lambda's runtime.ts", () => {
  it('every setting of the declaration has its doc, every unattended action its reason', () => {
    for (const [key, s] of Object.entries(runnerDrain.settings))
      expect(s.doc.length, key).toBeGreaterThan(40);
    for (const kind of ['deregister', 'complete'] as const)
      expect(runnerDrain.actions[kind].unattended?.length, kind).toBeGreaterThan(60);
    // what the Lambda performs with (runtime.ts) needs approval exactly where the declaration does
    for (const [kind, a] of Object.entries(DRAIN_ACTIONS)) {
      const declared = runnerDrain.actions[kind as keyof typeof DRAIN_ACTIONS];
      expect([a.reversible, Boolean(a.unattended)], kind).toEqual([
        declared.reversible,
        Boolean(declared.unattended),
      ]);
    }
  });
});

describe('runner-drain: its declaration (settings, actions, IAM)', () => {
  const env = {
    AUDIT_TABLE_NAME: 'audit',
    DRAIN_STATE_TABLE: 'state',
    DRAIN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/drain',
    AUTO_SCALING_GROUP_NAMES: 'ci-runners,gpu-runners',
    LIFECYCLE_HOOK_NAME: 'fleetwarden-drain',
  };

  it("reads every setting from today's environment variables, with today's defaults", () => {
    expect(readSettings(runnerDrain.settings, env)).toEqual({
      auditTable: 'audit',
      stateTable: 'state',
      queueUrl: env.DRAIN_QUEUE_URL,
      autoScalingGroupNames: ['ci-runners', 'gpu-runners'],
      lifecycleHookName: 'fleetwarden-drain',
      deadlineSeconds: 1800,
      retryDelaySeconds: 60,
      dryRun: true,
    });
  });

  it('refuses out-of-bounds and missing settings, naming each variable', () => {
    const bad = {
      ...env,
      DRAIN_DEADLINE_SECONDS: '59',
      RETRY_DELAY_SECONDS: '901',
      LIFECYCLE_HOOK_NAME: undefined,
    };
    const problem = (() => {
      try {
        readSettings(runnerDrain.settings, bad);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(problem).toMatch(/DRAIN_DEADLINE_SECONDS="59"/);
    expect(problem).toMatch(/RETRY_DELAY_SECONDS="901"/);
    expect(problem).toMatch(/LIFECYCLE_HOOK_NAME=<unset>/);
  });

  it("declares each action under today's audit name: deregister irreversible but unattended, nothing weighed", () => {
    const a = runnerDrain.actions;
    expect(Object.values(a).map((k) => k.audit)).toEqual([
      'runner.deregister',
      'runner.cordon',
      'lifecycle.heartbeat',
      'lifecycle.complete',
      'drain.adopt',
      'drain.look-spokes',
    ]);
    expect(a.deregister).toMatchObject({ reversible: false, weight: 0 });
    expect(a.deregister.unattended).toMatch(/Terminating:Wait.*own hook/);
    expect(a.cordon.reversible).toBe(true);
    expect(Object.values(a).map((k) => k.weight)).toEqual([0, 0, 0, 0, 0, 0]);
    // starting a drain, or a spoke's look, only puts a hint on the drain's own queue: nothing mutating
    expect(a.adopt).toMatchObject({ reversible: true, calls: [] });
    expect(a['look-spokes']).toMatchObject({ reversible: true, calls: [] });
    expect(a.deregister.calls).toContain('GitHub DELETE /orgs/{org}/actions/runners/{runner_id}');
    expect(a.cordon.calls).toContain('GitHub PUT /orgs/{org}/actions/runners/{runner_id}/labels');
    expect(a.heartbeat.calls).toEqual(['AutoScaling.RecordLifecycleActionHeartbeat']);
    expect(a.complete.calls).toEqual(['AutoScaling.CompleteLifecycleAction']);
  });

  it('grants the lifecycle calls on the configured groups only, and reads Auto Scaling', () => {
    const s = readSettings(runnerDrain.settings, env);
    const group = (n: string) =>
      `arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${n}`;
    expect(runnerDrain.actions.complete.iam(s)).toEqual([
      {
        actions: ['autoscaling:CompleteLifecycleAction'],
        resources: [group('ci-runners'), group('gpu-runners')],
      },
    ]);
    expect(runnerDrain.actions.heartbeat.iam(s)).toEqual([
      {
        actions: ['autoscaling:RecordLifecycleActionHeartbeat'],
        resources: [group('ci-runners'), group('gpu-runners')],
      },
    ]);
    expect(runnerDrain.actions.deregister.iam(s)).toEqual([]);
    expect(runnerDrain.reads(s).flatMap((g) => g.actions)).toEqual([
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DescribeLifecycleHooks',
      'autoscaling:DescribeScalingActivities',
      'autoscaling:DescribeWarmPool',
    ]);
    expect(runnerDrain.ports).toEqual([
      'audit',
      'registry',
      'lifecycleActions',
      'drainState',
      'drainScheduler',
    ]);
  });

  it('sends a fleet-mutating call only inside the action that declares it', async () => {
    const seen: Array<[string, string]> = [];
    const probe = (about: string) => ensureIntent(about).then(() => void seen.push([about, 'sent']));
    idleRunner();
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      await probe('GitHub DELETE /orgs/{org}/actions/runners/{runner_id}');
      return del(id);
    };
    const complete = lifecycle.complete.bind(lifecycle);
    lifecycle.complete = async (r, result) => {
      await probe('AutoScaling.CompleteLifecycleAction');
      return complete(r, result);
    };
    expect((await handler()(sqs(lifecycleEvent()), ctx)).batchItemFailures).toEqual([]);
    expect(seen.map(([about]) => about)).toEqual([
      'GitHub DELETE /orgs/{org}/actions/runners/{runner_id}',
      'AutoScaling.CompleteLifecycleAction',
    ]);
    // the same call made from the other action is refused before it is sent
    lifecycle.begin(ref('tok-9'), 300_000);
    idleRunner();
    registry.deleteRunner = async (id) => {
      await probe('AutoScaling.CompleteLifecycleAction');
      return del(id);
    };
    await expect(handler()(sqs(lifecycleEvent('tok-9')), ctx)).rejects.toThrow(/All records failed/);
    expect(kinds().at(-1)).toEqual(['runner.deregister', 'failed']);
    expect(audit.all().at(-1)?.reason).toMatch(/UndeclaredCallError|not a call this action declared/);
  });
});
