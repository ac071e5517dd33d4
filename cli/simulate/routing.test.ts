import { describe, expect, it } from 'vitest';
import { FleetFunction } from '../../infra/constructs/fleet-function';
import { LIFECYCLE_HOOK_NAME } from '../../infra/constructs/runner-remediation';
import { HOME_REGION, SIM_ACCOUNT } from './evidence';
import { routingFromTemplate, synthesizeFleet } from './routing';

describe('simulator routing (from the synthesized FleetStack)', () => {
  const routing = synthesizeFleet({ dryRun: false });
  const entryOf = (id: string) => routing.functions.get(id)?.entry;

  it('finds every fleet function by its handler entry', () => {
    const entries = [...routing.functions.values()].map((f) => f.entry).sort();
    expect(entries).toEqual(
      expect.arrayContaining([
        'functions/dns-sync/index.ts',
        'functions/dns-reconcile/index.ts',
        'functions/runner-drain/index.ts',
        'functions/runner-sweep/index.ts',
        'functions/runner-job-watch/index.ts',
        'functions/webhook-ingress/index.ts',
        'functions/audit-correlate/index.ts',
      ]),
    );
  });

  it('routes EC2 state changes through a queue to dns-sync with the deployed batching', () => {
    const rule = routing.rules.find((r) =>
      JSON.stringify(r.pattern ?? {}).includes('EC2 Instance State-change Notification'),
    );
    const target = rule?.targets[0];
    expect(target?.kind).toBe('queue');
    const consumer = target?.kind === 'queue' ? routing.consumers.get(target.queue) : undefined;
    expect(entryOf(consumer?.fn ?? '')).toBe('functions/dns-sync/index.ts');
    expect(consumer?.batchSize).toBeGreaterThan(1);
  });

  it('routes workflow_job events on the custom bus to runner-job-watch, and schedules the sweep', () => {
    const job = routing.rules.find(
      (r) => r.bus !== 'default' && JSON.stringify(r.pattern ?? {}).includes('workflow_job'),
    );
    expect(job && routing.buses.includes(job.bus)).toBe(true);
    expect(job?.targets.map((t) => (t.kind === 'function' ? entryOf(t.fn) : t.queue))).toEqual([
      'functions/runner-job-watch/index.ts',
    ]);
    const sweep = routing.rules.find((r) =>
      r.targets.some((t) => t.kind === 'function' && entryOf(t.fn) === 'functions/runner-sweep/index.ts'),
    );
    expect(sweep?.everyMs).toBe(5 * 60_000);
  });

  it("reads every queue's visibility timeout and redrive limit, as deployed", () => {
    const drainQueue = [...routing.consumers.entries()].find(
      ([, c]) => entryOf(c.fn) === 'functions/runner-drain/index.ts',
    )?.[0];
    const dnsQueue = [...routing.consumers.entries()].find(
      ([, c]) => entryOf(c.fn) === 'functions/dns-sync/index.ts',
    )?.[0];
    // whatever the constructs set (not SQS's 30 s default), with the 5-receive redrive
    expect(routing.queues.get(drainQueue ?? '')?.visibilityTimeoutMs).not.toBe(30_000);
    expect(routing.queues.get(drainQueue ?? '')?.maxReceiveCount).toBe(5);
    expect(routing.queues.get(dnsQueue ?? '')?.maxReceiveCount).toBe(5);
    const r = routingFromTemplate({
      Resources: {
        Q: {
          Type: 'AWS::SQS::Queue',
          Properties: { VisibilityTimeout: 75, RedrivePolicy: { maxReceiveCount: 3 } },
        },
      },
    });
    expect(r.queues.get('Q')).toEqual({ visibilityTimeoutMs: 75_000, maxReceiveCount: 3 });
  });

  it("reads each function's deployed timeout", () => {
    const drain = [...routing.functions.values()].find((f) => f.entry === 'functions/runner-drain/index.ts');
    expect(drain?.timeoutMs).toBeGreaterThan(3_000);
    const r = routingFromTemplate({
      Resources: {
        F: {
          Type: 'AWS::Lambda::Function',
          Properties: { Timeout: 45 },
          Metadata: { [FleetFunction.ENTRY_METADATA_KEY]: 'functions/x/handler.ts' },
        },
      },
    });
    expect(r.functions.get('F')?.timeoutMs).toBe(45_000);
  });

  it("reads each function's asynchronous retry count (EventInvokeConfig; Lambda's default 2 without one)", () => {
    const byEntry = (e: string) =>
      [...routing.functions.values()].find((f) => f.entry.startsWith(`functions/${e}/`));
    // dns-reconcile is not retried: the next scheduled run repairs whatever this one missed
    expect(byEntry('dns-reconcile')?.asyncRetries).toBe(0);
    expect(byEntry('dns-sync')?.asyncRetries).toBe(2);
    const r = routingFromTemplate({
      Resources: {
        F: {
          Type: 'AWS::Lambda::Function',
          Metadata: { [FleetFunction.ENTRY_METADATA_KEY]: 'functions/x/handler.ts' },
        },
        C: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: { FunctionName: { Ref: 'F' }, MaximumRetryAttempts: 1 },
        },
        G: {
          Type: 'AWS::Lambda::Function',
          Metadata: { [FleetFunction.ENTRY_METADATA_KEY]: 'functions/y/handler.ts' },
        },
      },
    });
    expect(r.functions.get('F')?.asyncRetries).toBe(1);
    expect(r.functions.get('G')?.asyncRetries).toBe(2);
  });

  it('reads the terminate lifecycle hooks (name, heartbeat timeout, default result) from the template', () => {
    expect(routing.lifecycleHooks).toEqual([
      {
        autoScalingGroupName: 'ci-runners',
        name: LIFECYCLE_HOOK_NAME,
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeoutMs: 300_000,
        defaultResult: 'CONTINUE',
      },
    ]);
  });

  it('applies SQS defaults where the template leaves them out (30 s visibility, no redrive)', () => {
    const r = routingFromTemplate({
      Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: {} } },
    });
    expect(r.queues.get('Q')).toEqual({ visibilityTimeoutMs: 30_000, maxReceiveCount: undefined });
  });
});

describe('simulator routing: environment values as deployed', () => {
  it('resolves pseudo parameters, joins and resource ARNs in a function environment', () => {
    const routing = routingFromTemplate({
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic' },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Metadata: { [FleetFunction.ENTRY_METADATA_KEY]: 'functions/x/index.ts' },
          Properties: {
            Environment: {
              Variables: {
                ROLE: {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':iam::',
                      { Ref: 'AWS::AccountId' },
                      ':role/approver',
                    ],
                  ],
                },
                TOPIC: { Ref: 'Topic' },
                TABLE: { Ref: 'Table' },
              },
            },
          },
        },
      },
    });
    expect(routing.functions.get('Fn')?.env).toEqual({
      ROLE: `arn:aws:iam::${SIM_ACCOUNT}:role/approver`,
      TOPIC: `arn:aws:sns:${HOME_REGION}:${SIM_ACCOUNT}:sim-Topic`,
      TABLE: 'sim-Table',
    });
  });
});
