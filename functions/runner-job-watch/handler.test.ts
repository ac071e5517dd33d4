import type { Context, EventBridgeEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import type { WorkflowJobDetail } from '../../shared/github/workflow-job-event';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { createHandler } from './handler';

const I = 'i-0123456789abcdef0';
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
let registry: InMemoryRunnerRegistry;
let inventory: InMemoryInstanceInventory;
let lifecycle: InMemoryInstanceLifecycle;
let audit: InMemoryAuditSink;
let runnerId: number;

function jobEvent(
  action: WorkflowJobDetail['action'],
  over: Partial<WorkflowJobDetail['job']> = {},
): EventBridgeEvent<'workflow_job', WorkflowJobDetail> {
  return {
    version: '0',
    id: `evt-${action}`,
    'detail-type': 'workflow_job',
    source: 'fleetwarden.github',
    account: '123456789012',
    time: '2026-11-24T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      deliveryId: `d-${action}`,
      action,
      job: {
        id: 1,
        runId: 2,
        name: 'build',
        status: action,
        conclusion: null,
        labels: ['self-hosted'],
        runnerId,
        runnerName: 'ci-runner-7',
        startedAt: '2026-11-24T12:00:00Z',
        completedAt: null,
        ...over,
      },
      repository: 'acme/app',
      organization: 'acme',
    },
  };
}
const handler = () => createHandler({ registry, inventory, lifecycle, audit, fleetTag: FLEET });

beforeEach(() => {
  registry = new InMemoryRunnerRegistry();
  inventory = new InMemoryInstanceInventory();
  lifecycle = new InMemoryInstanceLifecycle();
  audit = new InMemoryAuditSink();
  runnerId = registry.register({
    name: 'ci-runner-7',
    labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`],
  }).id;
  inventory.put({ instanceId: I, state: 'running', tags: { [FLEET.key]: FLEET.value } });
});

describe('runner-job-watch', () => {
  it('reports (audit + metric) a job that started on a runner whose instance the ASG is terminating', async () => {
    lifecycle.markTerminating(I);
    const out = await handler()(jobEvent('in_progress'), {} as Context);
    expect(out).toBe('job-on-leaving-instance');
    expect(audit.all()).toEqual([
      expect.objectContaining({
        action: 'runner.job-on-leaving-instance',
        decision: 'reported',
        subject: { instanceId: I, runnerName: 'ci-runner-7', runnerId },
        trigger: expect.objectContaining({ githubDeliveryId: 'd-in_progress' }),
      }),
    ]);
  });

  it('reports a job on a runner whose instance is already shutting down', async () => {
    inventory.setState(I, 'shutting-down');
    expect(await handler()(jobEvent('in_progress'), {} as Context)).toBe('job-on-leaving-instance');
  });

  it("audits, as skipped with the reason, jobs on healthy instances, other actions and runners that are not the fleet's", async () => {
    expect(await handler()(jobEvent('in_progress'), {} as Context)).toBe('healthy');
    expect(await handler()(jobEvent('queued', { runnerId: null, runnerName: null }), {} as Context)).toBe(
      'ignored',
    );
    const other = registry.register({ name: 'bobs-mac', labels: ['macOS'] }).id;
    expect(
      await handler()(jobEvent('in_progress', { runnerId: other, runnerName: 'bobs-mac' }), {} as Context),
    ).toBe('not-fleet');
    const records = audit.all();
    // a queued job names no runner: nothing to decide about (counted in a metric, not audited)
    expect(records.map((r) => [r.action, r.decision])).toEqual([
      ['runner.job-started', 'skipped'],
      ['runner.job-started', 'skipped'],
    ]);
    expect(records[0]).toMatchObject({ subject: { instanceId: I, runnerId } });
    expect(records[0]?.reason).toMatch(/healthy/);
    expect(records[1]).toMatchObject({ subject: { runnerId: other, runnerName: 'bobs-mac' } });
    expect(records[1]?.reason).toMatch(/not the fleet/);
  });

  it('throws on a malformed detail so EventBridge retries and the DLQ keeps it', async () => {
    const bad = { ...jobEvent('in_progress'), detail: { action: 'in_progress' } } as never;
    await expect(handler()(bad, {} as Context)).rejects.toThrow(/workflow_job/);
  });
});
