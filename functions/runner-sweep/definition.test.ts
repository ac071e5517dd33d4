import type { Context, ScheduledEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision, PlannedChange } from '../../shared/approvals/model';
import { AuditWriteError } from '../../shared/audit/errors';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { InMemoryWarmPool } from '../../shared/autoscaling/warm-pool';
import { ensureIntent } from '../../shared/aws/call-recorder';
import { SweepStateError } from '../../shared/budget/errors';
import { InMemorySweepState } from '../../shared/budget/in-memory-sweep-state';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { InMemoryInstanceTerminator } from '../../shared/ec2/instance-terminator';
import type { InstanceInfo } from '../../shared/ec2/port';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { createFleetOctokit, OctokitRunnerRegistry } from '../../shared/github/octokit-runner-registry';
import { FakeGitHubApi, testPrivateKey } from '../../shared/github/testing/fake-github-api';
import { describedFetch } from '../../shared/github/testing/openapi';
import { type ApprovalGate, type ApprovalRequest, REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { metrics } from '../../shared/observability/powertools';
import { FLEET_LABEL_PREFIX, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { runnerSweep } from './definition';

const T0 = Date.parse('2026-11-24T12:00:00Z');
let now = T0;
const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const FLEET_ID = '123456789012';
const ASG = 'runners-asg';
const FLEET_TAGS = { [FLEET.key]: FLEET.value, 'aws:autoscaling:groupName': ASG };
const schedule: ScheduledEvent = {
  version: '0',
  id: 'sched-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-24T12:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/sweep'],
  detail: {},
};
const ctx = {} as Context;

let registry: InMemoryRunnerRegistry;
let inventory: InMemoryInstanceInventory;
let audit: InMemoryAuditSink;
let terminator: InMemoryInstanceTerminator;
let lifecycle: InMemoryInstanceLifecycle;
let warmPool: InMemoryWarmPool;
let state: InMemorySweepState;

function fleetOf(n: number) {
  for (let k = 1; k <= n; k++) {
    inventory.put({
      instanceId: iid(k),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    registry.register({
      name: `ci-${iid(k)}`,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(k)}`, `${FLEET_LABEL_PREFIX}${FLEET_ID}`],
    });
  }
}
/** The instance leaves; GitHub marks its runner offline within minutes of its host going. */
function leave(k: number, state: InstanceInfo['state'] = 'terminated') {
  inventory.setState(iid(k), state);
  registry.setStatus(k, 'offline');
}
function handler(
  over: {
    dryRun?: boolean;
    allowTerminate?: boolean;
    maxRemovalShare?: number;
    maxRemovalsPerRun?: number;
    gracePeriodMs?: number;
    gate?: ApprovalGate;
    pool?: string;
    labels?: string[];
  } = {},
) {
  return runnerSweep.create(
    { registry, inventory, sweepState: state, instanceLifecycle: lifecycle, warmPool, terminator, audit },
    {
      auditTable: 'audit',
      sweepStateTable: 'sweep-state',
      fleetTagKey: FLEET.key,
      fleetTagValue: FLEET.value,
      fleetId: FLEET_ID,
      gracePeriod: (over.gracePeriodMs ?? 300_000) / 1000,
      bootTimeout: 900,
      allowTerminate: over.allowTerminate ?? false,
      maxRemovalShare: over.maxRemovalShare ?? 0.5,
      maxRemovalsPerRun: over.maxRemovalsPerRun ?? 100,
      budgetWindow: 3600,
      region: undefined,
      dryRun: over.dryRun ?? false,
      autoScalingGroupNames: [ASG],
      poolName: over.pool,
      runnerLabels: over.labels,
      githubApiUrl: undefined,
      githubEnterprise: undefined,
    },
    { now: () => new Date(now), gate: over.gate ?? REPORT_ONLY_GATE },
  );
}

beforeEach(() => {
  now = T0;
  registry = new InMemoryRunnerRegistry();
  inventory = new InMemoryInstanceInventory({ now: () => now });
  audit = new InMemoryAuditSink();
  terminator = new InMemoryInstanceTerminator(inventory);
  lifecycle = new InMemoryInstanceLifecycle();
  warmPool = new InMemoryWarmPool();
  state = new InMemorySweepState(() => now);
});

describe('runner-sweep', () => {
  it('deregisters the ghost runner of a terminated instance after the grace period and audits it', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    const summary = await handler()(schedule, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`]);
    expect(summary).toMatchObject({ deregistered: 1, refused: false });
    const recs = audit.all().map((r) => [r.action, r.decision]);
    expect(recs).toContainEqual(['runner.deregister', 'acted']);
    expect(recs).toContainEqual(['runner.sweep', 'acted']);
  });

  it('deregisters an idle runner on an instance its ASG is terminating, but never a busy one', async () => {
    fleetOf(4);
    lifecycle.markTerminating(iid(1));
    lifecycle.markTerminating(iid(3));
    registry.setBusy(3 as number, true);
    now += 10 * 60_000;
    await handler()(schedule, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(1)}`]);
    expect(audit.all().map((r) => [r.action, r.decision])).toContainEqual([
      'runner.busy-on-leaving-instance',
      'reported',
    ]);
  });

  it("a pool's sweep removes only runners with all the pool's labels, and every record names the pool", async () => {
    // runners 1, 2 carry the pool's label; 3, 4 are another pool's (same org, same fleet label)
    for (const [k, pool] of [
      [1, 'linux'],
      [2, 'linux'],
      [3, 'gpu'],
      [4, 'gpu'],
    ] as const) {
      inventory.put({
        instanceId: iid(k),
        state: 'running',
        tags: FLEET_TAGS,
        launchTime: new Date(T0 - 3_600_000).toISOString(),
      });
      registry.register({
        name: `ci-${iid(k)}`,
        labels: [
          'self-hosted',
          `${INSTANCE_LABEL_PREFIX}${iid(k)}`,
          `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
          pool,
        ],
      });
    }
    leave(2);
    leave(3);
    now += 10 * 60_000;
    await handler({ pool: 'linux', labels: ['linux'], maxRemovalShare: 1 })(schedule, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`]);
    expect(audit.all().length).toBeGreaterThan(0);
    expect(audit.all().every((r) => r.details.pool === 'linux')).toBe(true);
  });

  it("the shorthand's sweep (no pool) writes its records as today, naming no pool", async () => {
    fleetOf(2);
    leave(2);
    now += 10 * 60_000;
    await handler()(schedule, ctx);
    expect(audit.all().some((r) => 'pool' in r.details)).toBe(false);
  });

  it('opens the circuit instead of mass-deleting, records why and changes nothing', async () => {
    fleetOf(10);
    for (const k of [1, 2, 3, 4, 5, 6]) leave(k);
    now += 10 * 60_000;
    const summary = await handler({ maxRemovalShare: 0.2 })(schedule, ctx);
    expect(summary).toMatchObject({ refused: true, deregistered: 0 });
    expect(registry.deleted).toEqual([]);
    const sweep = audit.all().find((r) => r.action === 'runner.sweep');
    expect(sweep).toMatchObject({ decision: 'refused' });
    expect(sweep?.reason).toMatch(/circuit open/);
  });

  it('a refused run record names the removals it held back (on-call: which runners)', async () => {
    fleetOf(10);
    for (const k of [1, 2, 3, 4, 5, 6]) leave(k);
    now += 10 * 60_000;
    await handler({ maxRemovalShare: 0.2 })(schedule, ctx);
    const sweep = audit.all().find((r) => r.action === 'runner.sweep');
    expect(sweep?.details).toMatchObject({ refusedBy: 'breaker' });
    expect(sweep?.details.withheld).toEqual(
      [1, 2, 3, 4, 5, 6].map((k) => ({ kind: 'deregister', instanceId: iid(k), runnerId: k })),
    );
  });

  it('a withheld removal the breaker does not count says so (unconfirmed)', async () => {
    fleetOf(10);
    for (const k of [1, 2, 3, 4, 5, 6]) leave(k);
    const evil = registry.register({
      name: 'evil-0',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}i-0000000000000a000`,
        `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
      ],
    });
    registry.setStatus(evil.id, 'offline');
    now += 10 * 60_000;
    await handler({ maxRemovalShare: 0.2 })(schedule, ctx);
    const sweep = audit.all().find((r) => r.action === 'runner.sweep');
    expect(sweep?.details.withheld).toContainEqual({
      kind: 'deregister',
      instanceId: 'i-0000000000000a000',
      runnerId: evil.id,
      unconfirmed: true,
    });
  });

  it('refuses when a runner listing page fails, judging nothing', async () => {
    fleetOf(300);
    leave(2);
    registry.failNextListPage();
    now += 10 * 60_000;
    const summary = await handler()(schedule, ctx);
    expect(summary.refused).toBe(true);
    expect(registry.deleted).toEqual([]);
  });

  it('in dry run reports what it would do and deregisters nothing', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    await handler({ dryRun: true })(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    expect(audit.all().find((r) => r.action === 'runner.deregister')).toMatchObject({
      decision: 'reported',
      mode: 'dry-run',
    });
  });

  it('terminates a never-registered instance only when opted in', async () => {
    fleetOf(4);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    await handler({ gate: approving() })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    await handler({ allowTerminate: true, gate: approving() })({ ...schedule, id: 'sched-2' }, ctx);
    expect(terminator.terminated).toEqual([iid(9)]);
  });

  it('rethrows a GitHub failure during deregistration after auditing it (the schedule retries, the alarm fires)', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    const h = handler();
    registry.deleteRunner = async () => {
      throw new Error('GitHub 500');
    };
    await expect(h(schedule, ctx)).rejects.toThrow(/GitHub 500/);
    expect(audit.all().find((r) => r.action === 'runner.deregister')).toMatchObject({ decision: 'failed' });
  });

  it('stops the run at the first audit failure: no DELETE without an intent record, none after it', async () => {
    fleetOf(6);
    leave(2);
    leave(4);
    now += 10 * 60_000;
    // the registry waits for the intent like the Octokit adapter's request hook does
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      await ensureIntent('GitHub DELETE /orgs/{org}/actions/runners/{runner_id}');
      return del(id);
    };
    audit.failNextWrites(1); // one lost write: the first deregistration's intent
    await expect(handler()(schedule, ctx)).rejects.toBeInstanceOf(AuditWriteError);
    expect(registry.deleted).toEqual([]);
    expect(
      audit
        .all()
        .filter((r) => r.action === 'runner.deregister')
        .map((r) => r.decision),
    ).toEqual(['failed']);
  });

  it('a runner that took a job between the listing and the DELETE (422) is not removed: audited skipped, not failed', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      registry.setBusy(id, true); // a job landed after the listing saw it idle
      return del(id);
    };
    const summary = await handler()(schedule, ctx);
    expect(summary).toMatchObject({ deregistered: 0, skipped: 1, failed: 0 });
    expect(registry.findByName(`ci-${iid(2)}`)).toMatchObject({ busy: true });
    const rec = audit.all().find((r) => r.action === 'runner.deregister');
    expect(rec).toMatchObject({ decision: 'skipped' });
    expect(rec?.reason).toMatch(/took a job/);
  });

  it('never terminates an instance whose runner a concurrent delete pushed off the listing (re-check first)', async () => {
    registry = new InMemoryRunnerRegistry({ perPage: 2 });
    fleetOf(6);
    // during the first listing, runner 1 is removed by GitHub (an ephemeral runner finished):
    // runner 3 shifts from page 1 to page 0 and is missed
    let churned = false;
    registry.beforeListPage = (page) => {
      if (page === 1 && !churned) {
        churned = true;
        registry.unregister(1);
      }
    };
    const summary = await handler({ allowTerminate: true })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    expect(summary.terminated).toBe(0);
    expect(audit.all().find((r) => r.action === 'instance.terminate')).toMatchObject({ decision: 'skipped' });
  });

  it('caps removals per run, audits the deferred ones in the run record, and the next run takes them', async () => {
    fleetOf(10);
    for (const k of [1, 2, 3]) leave(k);
    now += 10 * 60_000;
    const first = await handler({ maxRemovalsPerRun: 2 })(schedule, ctx);
    expect(first).toMatchObject({ deregistered: 2, deferred: 1 });
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run?.reason).toMatch(/1 deferred/);
    expect(run?.details).toMatchObject({ deferred: [expect.objectContaining({ instanceId: iid(3) })] });
    const second = await handler({ maxRemovalsPerRun: 2 })({ ...schedule, id: 'sched-2' }, ctx);
    expect(second).toMatchObject({ deregistered: 1, deferred: 0 });
    expect(registry.deleted).toHaveLength(3);
  });

  it('a misreporting inventory (2 instances a run) removes at most the rolling budget, not 10 of 10 in 5 runs', async () => {
    fleetOf(10);
    // every run, EC2 "says" two more instances terminated 10 min ago; all runners are idle and, in a
    // GitHub outage, offline (online ones would only be reported as contradictions)
    for (let k = 1; k <= 10; k++) registry.setStatus(k, 'offline');
    let run = 0;
    const real = inventory.listByTag.bind(inventory);
    inventory.listByTag = async (key, value) =>
      (await real(key, value)).map((i): InstanceInfo => {
        const n = Number.parseInt(i.instanceId.slice(2), 16);
        return n > 2 * run && n <= 2 * run + 2
          ? { ...i, state: 'terminated', stateChangedAt: new Date(now - 10 * 60_000).toISOString() }
          : i;
      });
    for (run = 0; run < 5; run++) {
      now += 5 * 60_000;
      await handler({ maxRemovalShare: 0.2 })({ ...schedule, id: `sched-${run}` }, ctx);
    }
    expect(registry.deleted.length).toBeLessThanOrEqual(2);
    const runs = audit.all().filter((r) => r.action === 'runner.sweep');
    expect(runs.filter((r) => r.decision === 'refused').length).toBeGreaterThanOrEqual(3);
    expect(runs.find((r) => r.decision === 'refused')?.reason).toMatch(/removal budget/);
  });

  it('an ONLINE runner on a STOPPED instance is reported as a contradiction, never deregistered', async () => {
    fleetOf(4);
    inventory.setState(iid(2), 'stopped');
    now += 30 * 60_000;
    await handler()(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    expect(audit.all().map((r) => [r.action, r.decision])).toContainEqual([
      'runner.online-on-leaving-instance',
      'reported',
    ]);
  });

  it('keeps the runner of an instance stopped in its ASG warm pool registered (it comes back), audited skipped', async () => {
    fleetOf(4);
    inventory.setState(iid(2), 'stopped');
    registry.setStatus(2, 'offline');
    warmPool.put(ASG, iid(2), 'Warmed:Stopped');
    now += 30 * 60_000;
    const summary = await handler()(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    expect(summary).toMatchObject({ deregistered: 0, skipped: 1, refused: false });
    const rec = audit.all().find((r) => r.action === 'runner.deregister');
    expect(rec).toMatchObject({ decision: 'skipped', subject: { instanceId: iid(2) } });
    expect(rec?.reason).toMatch(/warm pool \(Warmed:Stopped\)/);
    expect(warmPool.calls).toBe(1);
  });

  it('when DescribeWarmPool fails, takes no stopped instance for a departure that run (skipped, audited)', async () => {
    fleetOf(4);
    inventory.setState(iid(2), 'stopped');
    registry.setStatus(2, 'offline');
    leave(3);
    now += 30 * 60_000;
    warmPool.failNext();
    const summary = await handler()(schedule, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(3)}`]);
    expect(summary).toMatchObject({ deregistered: 1, skipped: 1 });
    const rec = audit.all().find((r) => r.action === 'runner.deregister' && r.decision === 'skipped');
    expect(rec?.reason).toMatch(/warm pool could not be read \(DescribeWarmPool/);
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run?.details).toMatchObject({ warmPoolUnread: expect.stringMatching(/DescribeWarmPool/) });
    // a later run (past the removal budget window) reads the pool: the instance is not in it, it left
    now += 61 * 60_000;
    await handler()({ ...schedule, id: 'sched-2' }, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(3)}`, `ci-${iid(2)}`]);
  });

  it('stops at the first audit failure and rethrows (no further removal while the audit table is out)', async () => {
    fleetOf(10);
    for (const k of [2, 3, 4]) leave(k);
    now += 10 * 60_000;
    audit.failNextWrites(1000);
    await expect(handler({ maxRemovalShare: 0.5 })(schedule, ctx)).rejects.toBeInstanceOf(AuditWriteError);
    expect(registry.deleted.length).toBeLessThanOrEqual(1);
  });

  it('with a grace period over 1 h, removes a ghost EC2 forgot once its persisted first sighting is old enough', async () => {
    fleetOf(4);
    registry.setStatus(2, 'offline');
    now = T0 - 2 * 3_600_000; // terminated 2 h ago: EC2 no longer describes it
    leave(2);
    now = T0;
    const h = handler({ gracePeriodMs: 2 * 3_600_000 });
    for (let k = 0; k < 13; k++) {
      await h({ ...schedule, id: `sched-${k}` }, ctx);
      now += 5 * 60_000;
    }
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`]);
    const skipped = audit.all().filter((r) => r.action === 'runner.deregister' && r.decision === 'skipped');
    expect(skipped.at(-1)?.reason).toMatch(/first saw it gone 3[3-6]\d\d s ago/);
  });

  it("never deregisters another fleet's offline runner (two accounts, one GitHub org)", async () => {
    fleetOf(4);
    registry.register({
      name: 'ci-i-0000000000000bbbb',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}i-0000000000000bbbb`,
        `${FLEET_LABEL_PREFIX}210987654321`,
      ],
    });
    registry.setStatus(5, 'offline');
    await handler()(schedule, ctx);
    expect(registry.deleted).toEqual([]);
  });

  it('a state table failure fails the run, audited, before any removal', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    state.failNext();
    await expect(handler()(schedule, ctx)).rejects.toBeInstanceOf(SweepStateError);
    expect(registry.deleted).toEqual([]);
    expect(audit.all().find((r) => r.action === 'runner.sweep')).toMatchObject({ decision: 'failed' });
  });

  it('never terminates a fleet-tagged instance outside the configured ASGs', async () => {
    fleetOf(4);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: { [FLEET.key]: FLEET.value },
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    await handler({ allowTerminate: true })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
  });
});

describe('runner-sweep: review fixes (issue 10 follow-up)', () => {
  const withRequest = (awsRequestId: string) => ({ awsRequestId }) as Context;

  it("the same scheduled event delivered twice (two request ids) keeps both runs' records, the DELETE included", async () => {
    fleetOf(4);
    inventory.setState(iid(2), 'terminated');
    registry.setStatus(2, 'offline');
    now += 10 * 60_000;
    const listed = await registry.listRunners();
    await handler()(schedule, withRequest('req-1'));
    // the duplicate runs while GitHub's listing still shows the runner: its DELETE answers 404
    registry.listRunners = async () => listed;
    await handler()(schedule, withRequest('req-2'));
    const deregs = audit.all().filter((r) => r.action === 'runner.deregister');
    expect(deregs.map((r) => r.decision)).toEqual(['acted', 'acted']);
    expect(deregs.filter((r) => !/already gone/.test(r.reason))).toHaveLength(1);
    expect(audit.all().filter((r) => r.action === 'runner.sweep')).toHaveLength(2);
    // both deliveries spent the budget (one did not overwrite the other's row)
    expect((await state.removalsSince(new Date(0))).total).toBe(2);
  });

  it('an async retry (Lambda keeps the request id) keeps the records of the attempt before it', async () => {
    fleetOf(4);
    leave(2);
    now += 10 * 60_000;
    const listed = await registry.listRunners();
    await handler()(schedule, withRequest('req-1'));
    registry.listRunners = async () => listed;
    now += 60_000; // Lambda retries a failed asynchronous invocation a minute later, same request id
    await handler()(schedule, withRequest('req-1'));
    const deregs = audit.all().filter((r) => r.action === 'runner.deregister');
    expect(deregs.filter((r) => !/already gone/.test(r.reason))).toHaveLength(1);
    expect(deregs).toHaveLength(2);
  });

  it("40 runners registered with this fleet's labels do not enlarge the share: 8 of 10 misreported, nothing removed", async () => {
    fleetOf(10);
    for (let k = 1; k <= 8; k++) {
      inventory.setState(iid(k), 'shutting-down');
      registry.setStatus(k, 'offline');
    }
    for (let k = 0; k < 40; k++)
      registry.register({
        name: `evil-${k}`,
        labels: [
          'self-hosted',
          `${INSTANCE_LABEL_PREFIX}i-0000000000000${(0xa000 + k).toString(16)}`,
          `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
        ],
      });
    now += 10 * 60_000;
    const summary = await handler({ maxRemovalShare: 0.2 })(schedule, ctx);
    expect(registry.deleted.filter((r) => !r.name.startsWith('evil-'))).toEqual([]);
    expect(summary.refused).toBe(true);
    expect(audit.all().find((r) => r.action === 'runner.sweep')?.details).toMatchObject({
      fleetSize: 10,
      fleetRunners: 10,
    });
  });

  it('fake offline runners with no EC2 instance never exhaust the budget for a real removal', async () => {
    fleetOf(10);
    for (let k = 0; k < 40; k++) {
      const r = registry.register({
        name: `evil-${k}`,
        labels: [
          'self-hosted',
          `${INSTANCE_LABEL_PREFIX}i-0000000000000${(0xa000 + k).toString(16)}`,
          `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
        ],
      });
      registry.setStatus(r.id, 'offline');
    }
    const h = handler({ maxRemovalShare: 0.2 });
    await h(schedule, ctx); // the fakes take their half of the budget (1 of 2)
    inventory.setState(iid(3), 'terminated');
    registry.setStatus(3, 'offline');
    now += 10 * 60_000;
    await h({ ...schedule, id: 'sched-2' }, ctx);
    expect(registry.deleted.map((r) => r.name)).toContain(`ci-${iid(3)}`);
    expect(registry.deleted.filter((r) => r.name.startsWith('evil-'))).toHaveLength(1);
  });

  it('an ONLINE runner on a terminated instance is reported as a contradiction (EC2 flapping), never deregistered', async () => {
    fleetOf(4);
    inventory.setState(iid(2), 'terminated');
    now += 30 * 60_000;
    await handler()(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    expect(audit.all().map((r) => [r.action, r.decision])).toContainEqual([
      'runner.online-on-leaving-instance',
      'reported',
    ]);
  });

  it("another team's stopped instance carrying the fleet tag (another ASG): its name-matched offline runner stays", async () => {
    fleetOf(4);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: { [FLEET.key]: FLEET.value, 'aws:autoscaling:groupName': 'other-team-asg' },
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    inventory.setState(iid(9), 'stopped');
    const r = registry.register({ name: `build-${iid(9)}`, labels: ['self-hosted'] });
    registry.setStatus(r.id, 'offline');
    now += 30 * 60_000;
    await handler()(schedule, ctx);
    expect(registry.deleted).toEqual([]);
  });
});

describe('runner-sweep on the remediation kernel (issue 11)', () => {
  const required = {
    AUDIT_TABLE_NAME: 'audit',
    SWEEP_STATE_TABLE: 'sweep-state',
    FLEET_TAG_KEY: FLEET.key,
    FLEET_TAG_VALUE: FLEET.value,
    FLEET_ID,
  };

  it('declares its two removals: audit names, irreversible, deregistration unattended with a reason, weight 1, calls', () => {
    const { deregister, terminate } = runnerSweep.actions;
    expect(deregister).toMatchObject({ audit: 'runner.deregister', does: 'deregister', reversible: false });
    expect(terminate).toMatchObject({ audit: 'instance.terminate', does: 'terminate', reversible: false });
    expect(deregister.unattended).toMatch(/busy runner/);
    // issue 12: a termination waits for a human (approvals); see the approvals tests below
    expect(terminate.unattended).toBeUndefined();
    expect([deregister.weight, terminate.weight]).toEqual([1, 1]);
    expect(deregister.calls).toEqual([
      'GitHub DELETE /orgs/{org}/actions/runners/{runner_id}',
      'GitHub DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}',
    ]);
    expect(terminate.calls).toEqual(['EC2.TerminateInstances']);
    expect(runnerSweep.triggers).toEqual([{ kind: 'schedule', minutes: 5 }]);
    expect(runnerSweep.entry).toBe('functions/runner-sweep/index.ts');
  });

  it("grants TerminateInstances only when opted in, scoped like the construct's statement", () => {
    const settings = readSettings(runnerSweep.settings, {
      ...required,
      AUTO_SCALING_GROUP_NAMES: 'a-asg,b-asg',
    });
    expect(runnerSweep.actions.terminate.iam(settings)).toEqual([]);
    expect(runnerSweep.actions.terminate.iam({ ...settings, allowTerminate: true })).toEqual([
      {
        actions: ['ec2:TerminateInstances'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'aws:ResourceTag/aws:autoscaling:groupName': ['a-asg', 'b-asg'],
            'aws:ResourceTag/fleetwarden:fleet': 'runners',
          },
          StringNotEqualsIgnoreCase: { 'aws:ResourceTag/fleetwarden:exempt': 'true' },
        },
      },
    ]);
    expect(runnerSweep.actions.deregister.iam(settings)).toEqual([]);
    expect(runnerSweep.reads(settings).flatMap((g) => g.actions)).toEqual([
      'ec2:DescribeInstances',
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeWarmPool',
    ]);
  });

  it("reads every variable of today's environment with today's defaults; AWS_REGION is optional", () => {
    expect(readSettings(runnerSweep.settings, required)).toEqual({
      auditTable: 'audit',
      sweepStateTable: 'sweep-state',
      fleetTagKey: FLEET.key,
      fleetTagValue: FLEET.value,
      fleetId: FLEET_ID,
      gracePeriod: 300,
      bootTimeout: 900,
      allowTerminate: false,
      maxRemovalShare: 0.2,
      maxRemovalsPerRun: 100,
      budgetWindow: 3600,
      region: undefined,
      dryRun: true,
      autoScalingGroupNames: [],
    });
    expect(readSettings(runnerSweep.settings, { ...required, AWS_REGION: 'eu-west-1' }).region).toBe(
      'eu-west-1',
    );
    expect(() =>
      readSettings(runnerSweep.settings, { ...required, MAX_REMOVAL_SHARE: '0', BOOT_TIMEOUT_SECONDS: '59' }),
    ).toThrow(
      /MAX_REMOVAL_SHARE="0".*BOOT_TIMEOUT_SECONDS="59"|BOOT_TIMEOUT_SECONDS="59".*MAX_REMOVAL_SHARE="0"/,
    );
    expect(() => readSettings(runnerSweep.settings, { ...required, FLEET_ID: undefined })).toThrow(
      /FLEET_ID=<unset>/,
    );
  });

  it("says in dry run what it would do with today's reasons, and counts it as today", async () => {
    fleetOf(4);
    leave(2);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    now += 10 * 60_000;
    const summary = await handler({ dryRun: true, allowTerminate: true })(schedule, ctx);
    expect(summary).toMatchObject({ deregistered: 1, terminated: 1 });
    const reasons = audit
      .all()
      .map((r) => [r.action, r.decision, r.reason.split(': ').slice(0, 2).join(': ')]);
    expect(reasons).toContainEqual(['runner.deregister', 'reported', `dry run: would deregister`]);
    expect(reasons).toContainEqual(['instance.terminate', 'reported', `dry run: would terminate`]);
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run).toMatchObject({ decision: 'reported' });
    expect(run?.reason).toBe(
      '4 runners, 4 instances: 1 deregistered, 1 terminated, 0 reported, 0 skipped, 0 failed, 0 deferred to the next run (at most 100 removals a run) (dry run)',
    );
    expect((await state.removalsSince(new Date(0))).total).toBe(0);
  });

  it('a failed termination is audited failed and counted as today (terminated and failed)', async () => {
    fleetOf(4);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    terminator.terminate = async () => {
      throw new Error('EC2 500');
    };
    await expect(handler({ allowTerminate: true, gate: approving() })(schedule, ctx)).rejects.toThrow(
      /EC2 500/,
    );
    expect(audit.all().find((r) => r.action === 'instance.terminate')).toMatchObject({ decision: 'failed' });
    expect(audit.all().find((r) => r.action === 'runner.sweep')?.details).toMatchObject({
      terminated: 1,
      failed: 1,
    });
  });

  it('reserves its removals in the ledger before acting (runId per delivery, unconfirmed kept apart)', async () => {
    fleetOf(10);
    const evil = registry.register({
      name: 'evil-0',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}i-0000000000000a000`,
        `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
      ],
    });
    registry.setStatus(evil.id, 'offline');
    leave(3);
    now += 10 * 60_000;
    const reserved: unknown[] = [];
    const reserve = state.reserveRemovals.bind(state);
    state.reserveRemovals = async (r) => {
      const deletedBefore = registry.deleted.length;
      const out = await reserve(r);
      reserved.push({ ...r, ...out, deletedBefore });
      return out;
    };
    await handler({ maxRemovalShare: 0.2 })(schedule, { awsRequestId: 'req-1' } as Context);
    expect(registry.deleted.map((r) => r.name).sort()).toEqual([`ci-${iid(3)}`, 'evil-0']);
    expect(reserved).toEqual([
      {
        runId: `sched-1@req-1@${new Date(now).toISOString()}`,
        at: new Date(now),
        since: new Date(now - 3_600_000),
        limit: 2,
        want: 2,
        unconfirmed: 1,
        expiresAt: new Date(now + 2 * 3_600_000),
        spent: 0,
        granted: 2,
        deletedBefore: 0, // nothing deleted yet when the ledger was written
      },
    ]);
  });

  it("refuses what a concurrent run's reservation left no budget for (the kernel's allowance)", async () => {
    fleetOf(10);
    leave(3);
    now += 10 * 60_000;
    // another run reserves its removals between this run's planning read and its reservation
    const since = state.removalsSince.bind(state);
    const reserve = state.reserveRemovals.bind(state);
    state.reserveRemovals = async (r) => {
      await reserve({ ...r, runId: 'other-run', want: 2 });
      return reserve(r);
    };
    const summary = await handler({ maxRemovalShare: 0.2 })(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    const rec = audit.all().find((r) => r.action === 'runner.deregister');
    expect(rec).toMatchObject({ decision: 'refused' });
    expect(rec?.reason).toMatch(
      /^blast-radius budget spent for this window: not allowed to deregister: runner /,
    );
    expect(summary).toMatchObject({ deregistered: 0, failed: 0 });
    expect(audit.all().find((r) => r.action === 'runner.sweep')?.details).toMatchObject({ budgetRefused: 1 });
    expect((await since(new Date(0))).total).toBe(2);
  });

  it('leaves runners labelled with another region alone when the region is set (AWS_REGION)', async () => {
    fleetOf(4);
    const other = registry.register({
      name: 'ci-elsewhere',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}i-0000000000000cccc`,
        `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
        'fleetwarden-region:us-east-1',
      ],
    });
    registry.setStatus(other.id, 'offline');
    const settings = readSettings(runnerSweep.settings, {
      ...required,
      DRY_RUN: 'false',
      AWS_REGION: 'eu-west-1',
      AUTO_SCALING_GROUP_NAMES: ASG,
    });
    const ports = {
      registry,
      inventory,
      sweepState: state,
      instanceLifecycle: lifecycle,
      warmPool,
      terminator,
      audit,
    };
    const gate = REPORT_ONLY_GATE;
    await runnerSweep.create(ports, settings, { now: () => new Date(now), gate })(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    await runnerSweep.create(
      ports,
      { ...settings, region: undefined },
      { now: () => new Date(now), gate },
    )({ ...schedule, id: 'sched-2' }, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual(['ci-elsewhere']);
  });
  it.each([
    ['organisation', undefined],
    ['repository', 'infra'],
  ])('its declared GitHub calls are the ones the GitHub adapter sends (%s runners)', async (_scope, repo) => {
    const api = new FakeGitHubApi('acme', repo ? { repository: repo } : {});
    const violations: string[] = [];
    const octokit = createFleetOctokit({
      credentials: { appId: 123, installationId: 456, privateKey: testPrivateKey() },
      fetch: describedFetch(api.fetch, violations),
      retries: 0,
      pacing: false,
    });
    fleetOf(4);
    leave(2);
    for (const r of await registry.listRunners())
      api.add({ name: r.name, status: r.status, labels: r.labels });
    now += 10 * 60_000;
    const github = new OctokitRunnerRegistry(octokit, { owner: 'acme', repository: repo });
    const settings = readSettings(runnerSweep.settings, {
      ...required,
      DRY_RUN: 'false',
      AUTO_SCALING_GROUP_NAMES: ASG,
    });
    const ports = {
      registry: github,
      inventory,
      sweepState: state,
      instanceLifecycle: lifecycle,
      warmPool,
      terminator,
      audit,
    };
    const summary = await runnerSweep.create(ports, settings, {
      now: () => new Date(now),
      gate: REPORT_ONLY_GATE,
    })(schedule, ctx);
    expect(summary).toMatchObject({ deregistered: 1, failed: 0 });
    expect(api.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(audit.all().find((r) => r.action === 'runner.deregister')?.githubCalls).toContainEqual(
      expect.objectContaining({
        route: runnerSweep.actions.deregister.calls[repo ? 1 : 0]?.replace('GitHub ', ''),
      }),
    );
    expect(violations).toEqual([]);
  });
});

// ---- approvals (issue 12): hand-written gates; the real one is shared/approvals/gate.ts ----------

interface FakeGate extends ApprovalGate {
  requests: ApprovalRequest[];
  settled: Array<'acted' | 'failed'>;
}

const APPROVAL: Decision = {
  proposalId: 'fwp-approved0001',
  fingerprint: 'f'.repeat(64),
  decision: 'approve',
  reason: 'mass termination was the spot reclaim; clean up',
  approver: {
    arn: 'arn:aws:iam::123456789012:user/alice',
    sessionArn: 'arn:aws:sts::123456789012:assumed-role/FleetwardenApprover/alice',
    account: '123456789012',
  },
  decidedAt: '2026-11-24T12:05:00.000Z',
  requestIds: ['sts-req-1', 'ddb-req-1'],
};

/** Approves every request (as the real gate does once a human approved the same fingerprint). */
function approving(only?: (r: ApprovalRequest) => boolean): FakeGate {
  const gate: FakeGate = {
    requests: [],
    settled: [],
    async check(r) {
      gate.requests.push(r);
      if (only && !only(r))
        return {
          approved: false,
          reason: 'the plan changed since it was approved',
          proposalId: 'fwp-new000000002',
        };
      return {
        approved: true,
        proposalId: APPROVAL.proposalId,
        by: [APPROVAL.approver.arn],
        decisions: [APPROVAL],
        settle: async (outcome) => {
          gate.settled.push(outcome);
        },
      };
    },
  };
  return gate;
}

/** Refuses every request as a fresh proposal waiting for a human (with the gate's own note). */
function refusing(): FakeGate {
  const gate: FakeGate = {
    requests: [],
    settled: [],
    async check(r) {
      gate.requests.push(r);
      return {
        approved: false,
        proposalId: 'fwp-waiting00001',
        reason: 'proposal fwp-waiting00001 waits for 1 approval(s)',
        notes: [
          {
            kind: 'note',
            audit: 'approval.proposed',
            decision: 'reported',
            subject: { recordName: 'proposal:fwp-waiting00001' },
            reason: `proposed fwp-waiting00001: ${r.changes.length} change(s)`,
          },
        ],
      };
    },
  };
  return gate;
}

const subjectsOf = (changes: readonly PlannedChange[]) => changes.map((c) => c.subject.instanceId);

describe('runner-sweep: a run the breaker or the budget refuses becomes a proposal (issue 12)', () => {
  /** 10 instances, 6 terminated with their runners offline: 6 removals of 10, above a 20% share. */
  function massTermination() {
    fleetOf(10);
    for (const k of [1, 2, 3, 4, 5, 6]) leave(k);
    now += 10 * 60_000;
  }

  it('asks the gate about exactly the refused removals, with stable facts, blast radius and the run as claimant', async () => {
    massTermination();
    const gate = refusing();
    const summary = await handler({ maxRemovalShare: 0.2, gate })(schedule, ctx);
    expect(registry.deleted).toEqual([]);
    expect(summary).toMatchObject({ refused: true, deregistered: 0 });
    expect(gate.requests).toHaveLength(1);
    const [req] = gate.requests;
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(req).toMatchObject({
      function: 'runner-sweep',
      why: 'breaker',
      blastRadius: { count: 6, of: 10, what: 'runners' },
      claimant: run?.recordId,
      triggerId: schedule.id,
    });
    expect(req?.reason).toMatch(/circuit open: 6 removals out of a fleet of 10/);
    expect(subjectsOf(req?.changes ?? [])).toEqual([1, 2, 3, 4, 5, 6].map(iid));
    expect(req?.changes[0]).toEqual({
      kind: 'deregister',
      action: 'runner.deregister',
      subject: { instanceId: iid(1), runnerName: `ci-${iid(1)}`, runnerId: 1 },
      reason: expect.stringMatching(/^runner ci-i-0+1 is idle/),
      facts: { runnerId: 1, runnerName: `ci-${iid(1)}`, instanceId: iid(1), ghost: 'instance terminated' },
    });
    // not approved: today's refusal, plus the proposal and why, and the gate's own note after it
    expect(run).toMatchObject({ decision: 'refused', details: { proposalId: 'fwp-waiting00001' } });
    expect(run?.reason).toMatch(/circuit open.*proposal fwp-waiting00001 waits for 1 approval/);
    const actions = audit.all().map((r) => r.action);
    expect(actions.indexOf('approval.proposed')).toBeGreaterThan(actions.indexOf('runner.sweep'));
  });

  it('asks again with the same facts on the next run (nothing but the clock changed)', async () => {
    massTermination();
    const gate = refusing();
    await handler({ maxRemovalShare: 0.2, gate })(schedule, ctx);
    now += 20 * 60_000;
    await handler({ maxRemovalShare: 0.2, gate })({ ...schedule, id: 'sched-2' }, ctx);
    expect(gate.requests[1]?.changes).toEqual(gate.requests[0]?.changes);
  });

  it('approved: removes exactly the approved runners past the breaker, each record linking the approval, then settles', async () => {
    massTermination();
    const gate = approving();
    const summary = await handler({ maxRemovalShare: 0.2, gate })(schedule, ctx);
    expect(registry.deleted.map((r) => r.name).sort()).toEqual([1, 2, 3, 4, 5, 6].map((k) => `ci-${iid(k)}`));
    expect(summary).toMatchObject({ deregistered: 6, failed: 0 });
    const removals = audit.all().filter((r) => r.action === 'runner.deregister');
    expect(removals.map((r) => r.decision)).toEqual(Array(6).fill('acted'));
    for (const r of removals)
      expect(r.details.approval).toEqual({
        proposalId: APPROVAL.proposalId,
        by: [APPROVAL.approver.arn],
        decisions: [
          {
            approver: APPROVAL.approver.arn,
            session: APPROVAL.approver.sessionArn,
            decision: 'approve',
            reason: APPROVAL.reason,
            decidedAt: APPROVAL.decidedAt,
            requestIds: APPROVAL.requestIds,
          },
        ],
      });
    expect(gate.settled).toEqual(['acted']);
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run).toMatchObject({
      decision: 'acted',
      details: { approval: { proposalId: APPROVAL.proposalId } },
    });
    expect(run?.reason).toMatch(/approved by arn:aws:iam::123456789012:user\/alice/);
    // the approved removals are in the rolling budget's ledger like any other
    expect((await state.removalsSince(new Date(0))).total).toBe(6);
  });

  it('the plan changed since the approval (one more ghost, one approved runner busy): nothing is removed', async () => {
    massTermination();
    const first = refusing();
    await handler({ maxRemovalShare: 0.2, gate: first })(schedule, ctx);
    const approvedSet = JSON.stringify(first.requests[0]?.changes);
    // a gate that approves only the exact set a human saw (the real one compares fingerprints)
    const gate = approving((r) => JSON.stringify(r.changes) === approvedSet);
    leave(7);
    registry.setBusy(2, true);
    now += 10 * 60_000;
    await handler({ maxRemovalShare: 0.2, gate })({ ...schedule, id: 'sched-2' }, ctx);
    const asked = gate.requests[0]?.changes ?? [];
    expect(subjectsOf(asked)).toEqual([1, 3, 4, 5, 6, 7].map(iid));
    expect(registry.deleted).toEqual([]);
    expect(gate.settled).toEqual([]);
  });

  it('a failed removal of an approved run is audited failed, settled failed and rethrown', async () => {
    massTermination();
    const gate = approving();
    const del = registry.deleteRunner.bind(registry);
    registry.deleteRunner = async (id) => {
      if (id === 3) throw new Error('GitHub 500');
      return del(id);
    };
    await expect(handler({ maxRemovalShare: 0.2, gate })(schedule, ctx)).rejects.toThrow(/GitHub 500/);
    expect(registry.deleted).toHaveLength(5);
    expect(gate.settled).toEqual(['failed']);
  });

  it('a window with units left removes ghosts up to them, defers the rest and still says the budget is spent', async () => {
    // multi-account seed 13: two confirmed ghosts waited a whole window behind an all-or-nothing
    // refusal; budget 2 (20% of 10), 1 spent: one ghost removed, the other deferred, on-call told
    fleetOf(10);
    leave(1);
    leave(2);
    now += 10 * 60_000;
    await state.recordRemovals(1, 'earlier-run', new Date(now - 60_000), new Date(now + 7_200_000));
    const added = vi.spyOn(metrics, 'addMetric');
    const gate = refusing();
    const summary = await handler({ maxRemovalShare: 0.2, gate })(schedule, ctx);
    expect(summary).toMatchObject({ refused: false, deregistered: 1, deferred: 1 });
    expect(registry.deleted).toHaveLength(1);
    expect(gate.requests).toEqual([]);
    expect(added.mock.calls.map(([name]) => name)).toContain('SweepBudgetExhausted');
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run?.decision).toBe('acted');
    expect(run?.reason).toMatch(/removal budget spent: 1 removals .* the oldest 1 removed, 1 deferred/);
    expect(run?.details).toMatchObject({
      budgetSpent: expect.stringMatching(/removal budget spent/),
      deferred: [expect.objectContaining({ why: 'budget' })],
    });
    added.mockRestore();
  });

  it('a rolling-budget refusal is proposed as such (why: budget)', async () => {
    fleetOf(10);
    leave(1);
    leave(2);
    now += 10 * 60_000;
    await state.recordRemovals(2, 'earlier-run', new Date(now - 60_000), new Date(now + 7_200_000));
    const gate = refusing();
    await handler({ maxRemovalShare: 0.2, gate })(schedule, ctx);
    expect(gate.requests.map((r) => [r.why, subjectsOf(r.changes)])).toEqual([['budget', [iid(1), iid(2)]]]);
    expect(registry.deleted).toEqual([]);
  });

  it('proposes nothing in a dry run, nor when a listing failed', async () => {
    massTermination();
    const gate = approving();
    await handler({ maxRemovalShare: 0.2, gate, dryRun: true })(schedule, ctx);
    registry.failNextListPage();
    const summary = await handler({ maxRemovalShare: 0.2, gate })({ ...schedule, id: 'sched-2' }, ctx);
    expect(summary.refused).toBe(true);
    expect(gate.requests).toEqual([]);
    expect(registry.deleted).toEqual([]);
    const runs = audit.all().filter((r) => r.action === 'runner.sweep');
    expect(runs.map((r) => r.decision)).toEqual(['refused', 'refused']);
    expect(runs[0]?.details).not.toHaveProperty('proposalId');
  });

  it('an approved refused run terminates its never-registered instances too (opted in), linking the approval', async () => {
    fleetOf(4);
    for (const k of [5, 6, 7])
      inventory.put({
        instanceId: iid(k),
        state: 'running',
        tags: FLEET_TAGS,
        launchTime: new Date(T0 - 3_600_000).toISOString(),
      });
    const gate = approving();
    await handler({ maxRemovalShare: 0.2, allowTerminate: true, gate })(schedule, ctx);
    expect(gate.requests.map((r) => r.why)).toEqual(['breaker']);
    expect(terminator.terminated.sort()).toEqual([5, 6, 7].map(iid));
    const records = audit.all().filter((r) => r.action === 'instance.terminate');
    expect(
      records.map((r) => [r.decision, (r.details.approval as { proposalId: string }).proposalId]),
    ).toEqual(Array(3).fill(['acted', APPROVAL.proposalId]));
    expect(gate.settled).toEqual(['acted']);
  });
});

describe('runner-sweep: terminating a never-registered instance needs a human (issue 12)', () => {
  function neverRegistered() {
    fleetOf(4);
    inventory.put({
      instanceId: iid(9),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
  }

  it('terminate is no longer unattended; deregistration keeps its reason; the definition proposes runs', () => {
    expect(runnerSweep.actions.terminate.unattended).toBeUndefined();
    expect(runnerSweep.actions.deregister.unattended).toMatch(/busy runner/);
    expect(runnerSweep.proposesRuns).toBe(true);
  });

  it('with the report-only gate, an opted-in termination is reported, never made', async () => {
    neverRegistered();
    await handler({ allowTerminate: true })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    const rec = audit.all().find((r) => r.action === 'instance.terminate');
    expect(rec).toMatchObject({ decision: 'reported' });
    expect(rec?.reason).toMatch(/^needs approval to terminate: instance i-0+9 has been running/);
  });

  it('asks the gate per instance with stable facts; approved, it terminates and links the approval', async () => {
    neverRegistered();
    const gate = approving();
    await handler({ allowTerminate: true, gate })(schedule, ctx);
    expect(gate.requests).toHaveLength(1);
    expect(gate.requests[0]).toMatchObject({
      why: 'irreversible',
      changes: [
        {
          kind: 'terminate',
          subject: { instanceId: iid(9) },
          facts: {
            instanceId: iid(9),
            autoScalingGroupName: ASG,
            launchTime: new Date(T0 - 3_600_000).toISOString(),
            ghost: 'never registered a runner',
          },
        },
      ],
    });
    expect(terminator.terminated).toEqual([iid(9)]);
    expect(audit.all().find((r) => r.action === 'instance.terminate')?.details.approval).toMatchObject({
      proposalId: APPROVAL.proposalId,
    });
    expect(gate.settled).toEqual(['acted']);
  });

  it('not approved: reported with the proposal id, the gate note after it', async () => {
    neverRegistered();
    const gate = refusing();
    await handler({ allowTerminate: true, gate })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    expect(audit.all().find((r) => r.action === 'instance.terminate')).toMatchObject({
      decision: 'reported',
      details: { proposalId: 'fwp-waiting00001' },
    });
    expect(audit.all().map((r) => r.action)).toContain('approval.proposed');
  });
});

describe('runner-sweep: the budget counts only removals this run will attempt (ghost left by a proposal)', () => {
  /** 10 runners' instances; runner 2's instance left 10 min ago; instance 9 never registered. */
  function ghostAndNeverRegistered() {
    fleetOf(10);
    leave(2);
    inventory.put({
      instanceId: iid(11),
      state: 'running',
      tags: FLEET_TAGS,
      launchTime: new Date(T0 - 3_600_000).toISOString(),
    });
    now += 10 * 60_000;
  }
  const spent = async () => (await state.removalsSince(new Date(0))).total;

  it('no approval flow: a deregistration and a proposed termination reserve 1, and the next run can still remove', async () => {
    ghostAndNeverRegistered();
    await handler({ allowTerminate: true, maxRemovalShare: 0.4 })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`]);
    expect(await spent()).toBe(1);
    // 10 min later, within the window: another ghost; the termination is proposed again
    leave(3);
    now += 10 * 60_000;
    await handler({ allowTerminate: true, maxRemovalShare: 0.4 })({ ...schedule, id: 'sched-2' }, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`, `ci-${iid(3)}`]);
    expect(await spent()).toBe(2);
    expect(
      audit
        .all()
        .filter((r) => r.action === 'runner.sweep')
        .map((r) => r.decision),
    ).toEqual(['acted', 'acted']);
  });

  it('a termination proposed every run never takes the window a ghost needs (the planner judges only what is attempted)', async () => {
    ghostAndNeverRegistered();
    await handler({ allowTerminate: true, maxRemovalShare: 0.3 })(schedule, ctx);
    leave(3);
    now += 10 * 60_000;
    // 9 fleet runners at 30%: 2 a window, 1 spent: the ghost takes the last one, the proposal none
    await handler({ allowTerminate: true, maxRemovalShare: 0.3 })({ ...schedule, id: 'sched-2' }, ctx);
    expect(registry.deleted.map((r) => r.name)).toEqual([`ci-${iid(2)}`, `ci-${iid(3)}`]);
    expect(terminator.terminated).toEqual([]);
  });

  it('with approvals: a termination only proposed spends nothing', async () => {
    ghostAndNeverRegistered();
    const gate = refusing();
    await handler({ allowTerminate: true, maxRemovalShare: 0.4, gate })(schedule, ctx);
    expect(gate.requests.map((r) => r.why)).toEqual(['irreversible']);
    expect(terminator.terminated).toEqual([]);
    expect(await spent()).toBe(1);
  });

  it('with approvals: an approved termination spends one unit when it is performed, after the deregistration', async () => {
    ghostAndNeverRegistered();
    const recorded: Array<[number, number]> = [];
    const reserve = state.reserveRemovals.bind(state);
    state.reserveRemovals = async (r) => {
      const terminated = terminator.terminated.length;
      const out = await reserve(r);
      recorded.push([out.granted, terminated]);
      return out;
    };
    await handler({ allowTerminate: true, maxRemovalShare: 0.4, gate: approving() })(schedule, ctx);
    expect(terminator.terminated).toEqual([iid(11)]);
    expect(await spent()).toBe(2);
    // the run's deregistration up front, then the approved termination just before it is made
    expect(recorded).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('with approvals: an approved termination the budget no longer allows when performed is refused, not made', async () => {
    ghostAndNeverRegistered();
    const gate = approving();
    const check = gate.check.bind(gate);
    // a concurrent run spends the rest of the window while the approval is looked up
    gate.check = async (r) => {
      await state.recordRemovals(3, 'other-run', new Date(now), new Date(now + 7_200_000));
      return check(r);
    };
    const summary = await handler({ allowTerminate: true, maxRemovalShare: 0.4, gate })(schedule, ctx);
    expect(terminator.terminated).toEqual([]);
    const rec = audit.all().find((r) => r.action === 'instance.terminate');
    expect(rec).toMatchObject({ decision: 'refused' });
    expect(rec?.reason).toMatch(/^blast-radius budget spent for this window: not allowed to terminate: /);
    expect(gate.settled).toEqual(['failed']);
    expect(summary).toMatchObject({ terminated: 0, deregistered: 1 });
    expect(await spent()).toBe(4);
  });

  it('the summary and run record count a termination awaiting approval as such, never as terminated', async () => {
    ghostAndNeverRegistered();
    const summary = await handler({ allowTerminate: true, maxRemovalShare: 0.4 })(schedule, ctx);
    expect(summary).toMatchObject({ deregistered: 1, terminated: 0, awaitingApproval: 1, failed: 0 });
    const run = audit.all().find((r) => r.action === 'runner.sweep');
    expect(run?.details).toMatchObject({ terminated: 0, awaitingApproval: 1 });
    expect(run?.reason).toMatch(/1 deregistered, 0 terminated, 1 awaiting approval, /);
    // the termination's own record says the same
    expect(audit.all().find((r) => r.action === 'instance.terminate')?.reason).toMatch(
      /^needs approval to terminate: /,
    );
  });

  it('a termination that failed before it was attempted (the gate failed) is failed, not terminated', async () => {
    ghostAndNeverRegistered();
    const gate: ApprovalGate = {
      async check() {
        throw new Error('proposals table unreadable');
      },
    };
    await expect(
      handler({ allowTerminate: true, maxRemovalShare: 0.4, gate })(schedule, ctx),
    ).rejects.toThrow(/proposals table unreadable/);
    expect(audit.all().find((r) => r.action === 'runner.sweep')?.details).toMatchObject({
      terminated: 0,
      failed: 1,
    });
    expect(await spent()).toBe(1);
  });
});
