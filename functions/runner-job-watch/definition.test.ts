import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { FakeGitHubApi, testPrivateKey } from '../../shared/github/testing/fake-github-api';
import type { WorkflowJobDetail } from '../../shared/github/workflow-job-event';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { runnerJobWatch } from './definition';
import { handler as deployedHandler } from './index';

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
const createHandler = (
  deps: { registry: InMemoryRunnerRegistry },
  pool?: { name: string; labels: string[] },
) =>
  runnerJobWatch.create(
    { registry: deps.registry, inventory, instanceLifecycle: lifecycle, audit },
    {
      auditTable: 'audit',
      fleetTagKey: FLEET.key,
      fleetTagValue: FLEET.value,
      poolName: pool?.name,
      runnerLabels: pool?.labels,
      githubApiUrl: undefined,
      githubEnterprise: undefined,
    },
    { now: () => new Date(), gate: REPORT_ONLY_GATE },
  );
const handler = () => createHandler({ registry });

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

  it("a pool's watch takes a runner without all the pool's labels for another pool's, and names the pool", async () => {
    lifecycle.markTerminating(I);
    const watch = createHandler({ registry }, { name: 'linux', labels: ['linux'] });
    expect(await watch(jobEvent('in_progress'), {} as Context)).toBe('not-fleet');
    const mine = registry.register({
      name: `ci-${I}`,
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`, 'linux'],
    });
    expect(
      await watch(jobEvent('in_progress', { runnerId: mine.id, runnerName: mine.name }), {} as Context),
    ).toBe('job-on-leaving-instance');
    expect(audit.all().map((r) => r.details.pool)).toEqual(['linux', 'linux']);
  });

  it("matches only its pool's events on the bus (the shorthand's rule stays as it was)", () => {
    const [rule] = runnerJobWatch.triggers;
    if (rule?.kind !== 'events' || typeof rule.pattern !== 'function') throw new Error('no pattern function');
    const s = {
      auditTable: 'a',
      fleetTagKey: 'k',
      fleetTagValue: 'v',
      githubApiUrl: undefined,
      githubEnterprise: undefined,
      runnerLabels: undefined,
    };
    expect(rule.pattern({ ...s, poolName: undefined }).detail).toEqual({ action: ['in_progress'] });
    expect(rule.pattern({ ...s, poolName: 'gpu' }).detail).toEqual({
      action: ['in_progress'],
      pool: ['gpu'],
    });
    // old events (before the ingress named pools) carry no pool: they are the pool default's
    expect(rule.pattern({ ...s, poolName: 'default' }).detail).toEqual({
      action: ['in_progress'],
      pool: ['default', { exists: false }],
    });
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

  it('reports a job whose runner_id is null but runner_name is set (spec-valid), looking the runner up by name', async () => {
    lifecycle.markTerminating(I);
    const out = await handler()(jobEvent('in_progress', { runnerId: null }), {} as Context);
    expect(out).toBe('job-on-leaving-instance');
    expect(audit.all()).toEqual([
      expect.objectContaining({
        action: 'runner.job-on-leaving-instance',
        decision: 'reported',
        subject: { instanceId: I, runnerName: 'ci-runner-7', runnerId },
      }),
    ]);
  });

  it('ignores (counted, not audited) an in_progress job that names no runner at all', async () => {
    const out = await handler()(jobEvent('in_progress', { runnerId: null, runnerName: null }), {} as Context);
    expect(out).toBe('ignored');
    expect(audit.all()).toEqual([]);
  });

  it('degrades under a GitHub rate limit: no failure; the job is matched by its runner name alone', async () => {
    const limited = new InMemoryRunnerRegistry({ rateLimit: 0 });
    const on = `ci-${I}`;
    const watch = createHandler({ registry: limited });
    lifecycle.markTerminating(I);
    expect(await watch(jobEvent('in_progress', { runnerId: 99, runnerName: on }), {} as Context)).toBe(
      'job-on-leaving-instance',
    );
    const [reported] = audit.all();
    expect(reported).toMatchObject({ decision: 'reported', subject: { instanceId: I, runnerName: on } });
    expect(reported?.reason).toMatch(/rate limit/);
  });

  it('skips with an audit record naming the rate limit when the runner cannot be placed without GitHub', async () => {
    const limited = new InMemoryRunnerRegistry({ rateLimit: 0 });
    const watch = createHandler({ registry: limited });
    expect(await watch(jobEvent('in_progress'), {} as Context)).toBe('rate-limited');
    expect(audit.all()).toEqual([
      expect.objectContaining({
        action: 'runner.job-started',
        decision: 'skipped',
        reason: expect.stringMatching(/GitHub rate limit/),
        subject: { runnerName: 'ci-runner-7', runnerId },
      }),
    ]);
  });

  describe('asks GitHub only when the answer can matter (a runner named by its instance)', () => {
    const ON = `ci-${I}`;
    const requests = (r: InMemoryRunnerRegistry) => Object.values(r.calls).reduce((a, b) => a + b, 0);
    let named: number;
    beforeEach(() => {
      named = registry.register({
        name: ON,
        labels: ['self-hosted', 'linux', `${INSTANCE_LABEL_PREFIX}${I}`],
      }).id;
    });
    const onNamed = (over: Partial<WorkflowJobDetail['job']> = {}) =>
      jobEvent('in_progress', { runnerId: named, runnerName: ON, ...over });

    it('a healthy fleet instance named by the runner: 0 GitHub requests, audited healthy, saying what was verified', async () => {
      expect(await handler()(onNamed(), {} as Context)).toBe('healthy');
      expect(requests(registry)).toBe(0);
      const [rec] = audit.all();
      expect(rec).toMatchObject({
        action: 'runner.job-started',
        decision: 'skipped',
        subject: { instanceId: I, runnerName: ON, runnerId: named },
      });
      expect(rec?.reason).toMatch(/placed by its name/);
      expect(rec?.reason).toMatch(/not looked up/);
    });

    it("an instance the name names that is not the fleet's: 0 GitHub requests, not-fleet", async () => {
      const J = 'i-0fedcba9876543210';
      inventory.put({ instanceId: J, state: 'shutting-down', tags: {} });
      expect(await handler()(onNamed({ runnerName: `ci-${J}` }), {} as Context)).toBe('not-fleet');
      expect(requests(registry)).toBe(0);
      expect(audit.all()[0]?.reason).toMatch(/not the fleet's/);
    });

    it('a leaving instance: 1 GitHub request (the runner, to confirm), then reported', async () => {
      lifecycle.markTerminating(I);
      expect(await handler()(onNamed(), {} as Context)).toBe('job-on-leaving-instance');
      expect(registry.calls).toMatchObject({ get: 1 });
      expect(requests(registry)).toBe(1);
      expect(audit.all()).toEqual([
        expect.objectContaining({
          decision: 'reported',
          subject: { instanceId: I, runnerName: ON, runnerId: named },
        }),
      ]);
    });

    it("a leaving instance whose runner's labels (GET) are another pool's: not reported", async () => {
      lifecycle.markTerminating(I);
      const watch = createHandler({ registry }, { name: 'gpu', labels: ['gpu'] });
      expect(await watch(onNamed(), {} as Context)).toBe('not-fleet');
      expect(requests(registry)).toBe(1);
      expect(audit.all().map((r) => r.decision)).toEqual(['skipped']);
      expect(audit.all()[0]?.reason).toMatch(/another pool's/);
    });

    it('a name that names a leaving instance while the labels (GET) name a healthy one: the labels decide, not reported', async () => {
      const J = 'i-0fedcba9876543210';
      inventory.put({ instanceId: J, state: 'shutting-down', tags: { [FLEET.key]: FLEET.value } });
      // a misleading (or forged) name: the runner's labels place it on I, which is healthy
      expect(await handler()(onNamed({ runnerName: `ci-${J}` }), {} as Context)).toBe('healthy');
      expect(requests(registry)).toBe(1);
      expect(audit.all()[0]).toMatchObject({ subject: { instanceId: I } });
    });

    it('a name that names no instance: the runner is looked up (1 GitHub request) as before', async () => {
      expect(await handler()(jobEvent('in_progress'), {} as Context)).toBe('healthy');
      expect(requests(registry)).toBe(1);
    });
  });

  it('throws on a malformed detail so EventBridge retries and the DLQ keeps it', async () => {
    const bad = { ...jobEvent('in_progress'), detail: { action: 'in_progress' } } as never;
    await expect(handler()(bad, {} as Context)).rejects.toThrow(/workflow_job/);
  });
});

describe('runner-job-watch as deployed (real adapters, GitHub faked at the HTTP boundary)', () => {
  const sm = mockClient(SecretsManagerClient);
  const ddb = mockClient(DynamoDBClient);
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
    sm.reset();
    ddb.reset();
  });

  it('asks GitHub for an installation token that can only read runners, and reads with it', async () => {
    const api = new FakeGitHubApi('acme');
    const other = api.add({ name: 'bobs-mac', labels: ['macOS'] });
    vi.stubGlobal('fetch', api.fetch);
    for (const [k, v] of Object.entries({
      AWS_REGION: 'eu-west-1',
      [AUDIT_TABLE_ENV]: 'audit',
      FLEET_TAG_KEY: FLEET.key,
      FLEET_TAG_VALUE: FLEET.value,
      GITHUB_APP_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf',
      GITHUB_OWNER: 'acme',
    }))
      vi.stubEnv(k, v);
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ appId: 1, installationId: 2, privateKey: testPrivateKey() }),
    });
    ddb.on(PutItemCommand).resolves({});
    runnerId = other;
    const out = await deployedHandler(jobEvent('in_progress', { runnerName: 'bobs-mac' }), {} as Context);
    expect(out).toBe('not-fleet');
    expect(api.tokenRequests).toEqual([
      { installationId: 2, permissions: { organization_self_hosted_runners: 'read' } },
    ]);
    expect(api.requests.filter((r) => r.path.includes('/actions/runners')).map((r) => r.method)).toEqual([
      'GET',
    ]);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
  });
});
