/**
 * Sweep at scale: 10,000 registered runners x 10,000 fleet instances, 100 of them terminated
 * 10 minutes ago (ghost runners). The real runner-sweep handler runs against the GitHub fake
 * (per_page 100) and the real EC2 adapter over scripted DescribeInstances (1,000 per page).
 * Compared in the same run with a naive design, run for real on the same fakes: runner list at
 * GitHub's default per_page (30) and one DescribeInstances per runner through the same adapter.
 * Prints call counts against the pagination minimum and CPU time.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { runnerSweep } from '../functions/runner-sweep/definition';
import { InMemoryAuditSink } from '../shared/audit/in-memory-audit-sink';
import { InMemoryInstanceLifecycle } from '../shared/autoscaling/instance-lifecycle';
import { InMemoryWarmPool } from '../shared/autoscaling/warm-pool';
import { InMemorySweepState } from '../shared/budget/in-memory-sweep-state';
import { Ec2InstanceInventory } from '../shared/ec2/ec2-instance-inventory';
import { InMemoryInstanceInventory } from '../shared/ec2/in-memory-instance-inventory';
import { InMemoryInstanceTerminator } from '../shared/ec2/instance-terminator';
import type { InstanceInfo } from '../shared/ec2/port';
import { scriptDescribeInstances } from '../shared/ec2/testing/scripted-describe-instances';
import { InMemoryRunnerRegistry } from '../shared/github/in-memory-runner-registry';
import { REPORT_ONLY_GATE } from '../shared/kernel/approval';
import { readSettings } from '../shared/kernel/settings';
import { INSTANCE_LABEL_PREFIX, instanceIdOf } from '../shared/runners/matching';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

export interface SweepBenchResult {
  runners: number;
  instances: number;
  ghosts: number;
  deregistered: number;
  githubListPages: number;
  githubDeletes: number;
  ec2Calls: number;
  asgCalls: number;
  cpuMs: number;
  minimum: { githubListPages: number; ec2Calls: number };
  naive: {
    githubListPages: number;
    ec2Calls: number;
    /** instance ids named across the naive side's DescribeInstances requests, as the EC2 stub saw them */
    describedInstanceIds: number;
    deregistered: number;
    cpuMs: number;
  };
}

function world(size: number, ghosts: number) {
  let now = T0 - 3_600_000;
  const fake = new InMemoryInstanceInventory({ now: () => now });
  const registry = new InMemoryRunnerRegistry({ now: () => now, rateLimit: 1_000_000 });
  const naiveRegistry = new InMemoryRunnerRegistry({ perPage: 30, now: () => now, rateLimit: 1_000_000 });
  for (let n = 1; n <= size; n++) {
    const info: InstanceInfo = {
      instanceId: iid(n),
      state: 'running',
      // Auto Scaling tags its instances; the sweep counts only the configured ASGs' as the fleet
      tags: { [FLEET.key]: FLEET.value, 'aws:autoscaling:groupName': 'ci-runners' },
      launchTime: new Date(now).toISOString(),
    };
    fake.put(info);
    const runner = { name: `ci-${iid(n)}`, labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(n)}`] };
    registry.register(runner);
    naiveRegistry.register(runner);
  }
  now = T0 - 10 * 60_000;
  for (let n = 1; n <= ghosts; n++) {
    fake.setState(iid(n * Math.floor(size / ghosts)), 'terminated');
    // GitHub marks a runner offline within minutes of its host going (runner ids follow instance numbers)
    registry.setStatus(n * Math.floor(size / ghosts), 'offline');
  }
  now = T0;
  return { fake, registry, naiveRegistry };
}

/**
 * The naive design, run for real on the same fakes: every runner listed at GitHub's default per_page
 * (30), then one DescribeInstances per runner through the same EC2 adapter and scripted stub, and a
 * DELETE when its instance is terminated and the runner idle. Every call is made and counted.
 */
async function naiveSweep(w: ReturnType<typeof world>): Promise<SweepBenchResult['naive']> {
  const ec2 = mockClient(EC2Client);
  scriptDescribeInstances(ec2, w.fake, 1000);
  const inventory = new Ec2InstanceInventory(ec2 as unknown as EC2Client);
  const cpu0 = process.cpuUsage();
  let deregistered = 0;
  for (const r of await w.naiveRegistry.listRunners()) {
    const id = instanceIdOf(r)?.instanceId;
    if (!id) continue;
    const [info] = await inventory.describe([id]);
    if (info?.state === 'terminated' && !r.busy) {
      await w.naiveRegistry.deleteRunner(r.id);
      deregistered++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const calls = ec2.commandCalls(DescribeInstancesCommand);
  const describedInstanceIds = calls
    .map((c) => c.args[0].input.Filters?.find((f) => f.Name === 'instance-id')?.Values?.length ?? 0)
    .reduce((a, b) => a + b, 0);
  ec2.restore();
  return {
    githubListPages: w.naiveRegistry.calls.listPages,
    ec2Calls: calls.length,
    describedInstanceIds,
    deregistered,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

export async function sweepAtScale(size = 10_000, ghosts = 100): Promise<SweepBenchResult> {
  const w = world(size, ghosts);
  const ec2 = mockClient(EC2Client);
  scriptDescribeInstances(ec2, w.fake, 1000);
  const lifecycle = new InMemoryInstanceLifecycle();
  const warmPool = new InMemoryWarmPool();
  const sweep = runnerSweep.create(
    {
      registry: w.registry,
      inventory: new Ec2InstanceInventory(ec2 as unknown as EC2Client),
      instanceLifecycle: lifecycle,
      warmPool,
      terminator: new InMemoryInstanceTerminator(w.fake),
      audit: new InMemoryAuditSink(),
      sweepState: new InMemorySweepState(() => T0),
    },
    {
      ...readSettings(runnerSweep.settings, {
        AUDIT_TABLE_NAME: 'audit',
        SWEEP_STATE_TABLE: 'sweep-state',
        FLEET_TAG_KEY: FLEET.key,
        FLEET_TAG_VALUE: FLEET.value,
        FLEET_ID: 'bench',
      }),
      dryRun: false,
      autoScalingGroupNames: ['ci-runners'],
      maxRemovalShare: 0.2,
    },
    { now: () => new Date(T0), gate: REPORT_ONLY_GATE },
  );
  const event = {
    id: 'bench',
    time: new Date(T0).toISOString(),
    'detail-type': 'Scheduled Event',
  } as ScheduledEvent;
  const cpu0 = process.cpuUsage();
  const summary = await sweep(event);
  const cpu = process.cpuUsage(cpu0);
  const ec2Calls = ec2.commandCalls(DescribeInstancesCommand).length;
  ec2.restore();

  const naive = await naiveSweep(w);
  return {
    runners: size,
    instances: size,
    ghosts,
    deregistered: summary.deregistered,
    githubListPages: w.registry.calls.listPages,
    githubDeletes: w.registry.calls.delete,
    ec2Calls,
    asgCalls: lifecycle.calls + warmPool.calls,
    cpuMs: (cpu.user + cpu.system) / 1000,
    minimum: {
      githubListPages: Math.ceil(size / 100),
      ec2Calls: Math.ceil((size - ghosts) / 1000) + Math.ceil(ghosts / 200),
    },
    naive,
  };
}

export async function run(): Promise<void> {
  const r = await sweepAtScale();
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  console.log(`sweep of ${r.runners} runners x ${r.instances} instances, ${r.ghosts} ghost runners`);
  console.log(`  deregistered          ${r.deregistered} (naive: ${r.naive.deregistered})`);
  console.log(
    `  GitHub list pages     ${r.githubListPages}  (pagination minimum ${r.minimum.githubListPages}; naive per_page=30: ${r.naive.githubListPages}, ${ratio(r.naive.githubListPages, r.githubListPages)} more)`,
  );
  console.log(`  GitHub deletes        ${r.githubDeletes}`);
  console.log(
    `  EC2 DescribeInstances ${r.ec2Calls}  (minimum ${r.minimum.ec2Calls}; naive one per runner: ${r.naive.ec2Calls}, ${ratio(r.naive.ec2Calls, r.ec2Calls)} more)`,
  );
  console.log(
    `  Auto Scaling calls    ${r.asgCalls}  (DescribeAutoScalingGroups + DescribeWarmPool for the one runner ASG)`,
  );
  console.log(
    `  CPU                   ${r.cpuMs.toFixed(0)} ms for the whole sweep incl. 100 audit records (naive, its ${r.naive.ec2Calls} DescribeInstances really sent to the same stub, no planning or audit: ${r.naive.cpuMs.toFixed(0)} ms)`,
  );
}
