import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { instrumentClient, noteGitHubCall, recordAwsCalls } from '../aws/call-recorder';
import { auditedAction, declareIntent, sqsDelivery } from './audited-action';
import { DynamoDbAuditSink } from './dynamodb-audit-sink';
import { AuditWriteError } from './errors';
import { InMemoryAuditSink } from './in-memory-audit-sink';

const ctx = {
  function: 'runner-sweep',
  trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
  mode: 'live' as const,
  now: () => new Date('2026-11-24T10:00:00.000Z'),
};
const what = { action: 'runner.deregister', subject: { runnerName: 'r-1', runnerId: 7 } };

describe('auditedAction', () => {
  it('writes one record per decision with the GitHub calls made', async () => {
    const sink = new InMemoryAuditSink();
    const result = await auditedAction(sink, ctx, what, async () => {
      noteGitHubCall({
        method: 'DELETE',
        route: 'DELETE /orgs/{org}/actions/runners/{runner_id}',
        time: '2026-11-24T10:00:00.000Z',
        status: 204,
        requestId: 'gh-1',
      });
      return { decision: 'acted', reason: 'instance gone for 20 min', result: 42 };
    });
    expect(result).toBe(42);
    const [record] = sink.all();
    expect(record).toMatchObject({
      function: 'runner-sweep',
      decision: 'acted',
      action: 'runner.deregister',
      mode: 'live',
      githubCalls: [{ requestId: 'gh-1', status: 204 }],
      correlation: { status: 'not-applicable' },
    });
  });

  it('is idempotent for a redelivered trigger', async () => {
    const sink = new InMemoryAuditSink();
    const step = async () => ({ decision: 'skipped' as const, reason: 'busy', result: undefined });
    await auditedAction(sink, ctx, what, step);
    await auditedAction(sink, ctx, what, step);
    expect(sink.records.size).toBe(1);
  });

  it('keeps separate records for separate deliveries of one event (a duplicate cannot overwrite what the first did)', async () => {
    const sink = new InMemoryAuditSink();
    await auditedAction(sink, { ...ctx, deliveryId: 'sqs-msg-1' }, what, async () => ({
      decision: 'acted',
      reason: 'done',
      result: 1,
    }));
    await auditedAction(sink, { ...ctx, deliveryId: 'sqs-msg-2' }, what, async () => ({
      decision: 'skipped',
      reason: 'already done',
      result: 1,
    }));
    expect(
      sink
        .all()
        .map((r) => r.decision)
        .sort(),
    ).toEqual(['acted', 'skipped']);
    // a retry of the SAME delivery still overwrites its own record
    await auditedAction(sink, { ...ctx, deliveryId: 'sqs-msg-2' }, what, async () => ({
      decision: 'skipped',
      reason: 'again',
      result: 1,
    }));
    expect(sink.all()).toHaveLength(2);
  });

  it('keeps the record of a failed attempt when a later attempt of the same delivery finds the work done', async () => {
    const sink = new InMemoryAuditSink();
    const first = { ...ctx, deliveryId: 'sqs-msg-1', attempt: 1 };
    await expect(
      auditedAction(sink, first, what, async () => {
        noteGitHubCall({
          method: 'DELETE',
          route: 'DELETE /orgs/{org}/actions/runners/{runner_id}',
          time: '2026-11-24T10:00:00.000Z',
          status: 204,
          requestId: 'gh-proof',
        });
        throw new Error('timed out after the delete');
      }),
    ).rejects.toThrow('timed out');
    await auditedAction(sink, { ...first, attempt: 2 }, what, async () => ({
      decision: 'skipped',
      reason: 'already deregistered',
      result: undefined,
    }));
    const records = sink.all();
    expect(records.map((r) => r.decision).sort()).toEqual(['failed', 'skipped']);
    expect(records.find((r) => r.decision === 'failed')?.githubCalls).toEqual([
      expect.objectContaining({ requestId: 'gh-proof' }),
    ]);
    expect(records.find((r) => r.decision === 'skipped')?.details).toMatchObject({ attempt: 2 });
    // an attempt without a delivery id (a batch-level step) keeps its own record too
    const batch = { ...ctx, trigger: { ...ctx.trigger, id: 'batch-1' } };
    await auditedAction(sink, batch, what, async () => ({ decision: 'failed', reason: 'a1', result: 1 }));
    await auditedAction(sink, { ...batch, attempt: 2 }, what, async () => ({
      decision: 'acted',
      reason: 'a2',
      result: 1,
    }));
    expect(sink.all().filter((r) => r.trigger.id === 'batch-1')).toHaveLength(2);
    // attempt 1 keeps the id a delivery had before attempts were counted
    await auditedAction(sink, { ...ctx, deliveryId: 'sqs-msg-1' }, what, async () => ({
      decision: 'failed',
      reason: 'rewritten by attempt 1',
      result: undefined,
    }));
    expect(sink.all()).toHaveLength(4);
  });

  it('queues a record about an instance for correlation when an AWS change triggered it, even with no AWS call of its own', async () => {
    const sink = new InMemoryAuditSink();
    const lifecycle = {
      ...ctx,
      function: 'runner-drain',
      trigger: {
        source: 'aws.autoscaling',
        id: 'ev-1',
        detailType: 'EC2 Instance-terminate Lifecycle Action',
      },
    };
    await auditedAction(
      sink,
      lifecycle,
      { action: 'runner.deregister', subject: { instanceId: 'i-0abc12345', runnerName: 'r-1' } },
      async () => ({ decision: 'acted', reason: 'idle runner deregistered', result: undefined }),
    );
    // a scheduled run about a runner alone has nothing in CloudTrail to wait for
    await auditedAction(sink, ctx, what, async () => ({ decision: 'acted', reason: 'gone', result: 1 }));
    expect(sink.all().map((r) => [r.function, r.correlation.status])).toEqual([
      ['runner-drain', 'pending'],
      ['runner-sweep', 'not-applicable'],
    ]);
  });

  it('records a failed step and rethrows its error', async () => {
    const sink = new InMemoryAuditSink();
    const boom = new Error('GitHub 502');
    await expect(
      auditedAction(sink, ctx, what, async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(sink.all()[0]).toMatchObject({ decision: 'failed', reason: 'Error: GitHub 502' });
  });

  it('fails the action when its record cannot be written', async () => {
    const sink = new InMemoryAuditSink();
    sink.failNextWrites(1);
    await expect(
      auditedAction(sink, ctx, what, async () => ({ decision: 'acted', reason: 'ok', result: 1 })),
    ).rejects.toBeInstanceOf(AuditWriteError);
  });

  it('keeps the step error as cause when the failure record cannot be written either', async () => {
    const sink = new InMemoryAuditSink();
    sink.failNextWrites(1);
    const boom = new Error('Route 53 down');
    const err = await auditedAction(sink, ctx, what, async () => {
      throw boom;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).cause).toBe(boom);
  });
});

describe('sqsDelivery', () => {
  it('reads the message id and the receive count as the attempt', () => {
    expect(sqsDelivery({ messageId: 'm-1', attributes: { ApproximateReceiveCount: '3' } })).toEqual({
      deliveryId: 'm-1',
      attempt: 3,
    });
  });

  it('counts a message without a usable receive count as the first attempt', () => {
    expect(sqsDelivery({ messageId: 'm-2' })).toEqual({ deliveryId: 'm-2', attempt: 1 });
    expect(sqsDelivery({ messageId: 'm-3', attributes: { ApproximateReceiveCount: 'x' } }).attempt).toBe(1);
  });
});

/** A real EC2 client (SDK middleware included) whose HTTP handler logs each request that reaches "AWS". */
function ec2Answering(log: string[]) {
  const client = new EC2Client({
    region: 'eu-west-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const action = /Action=(\w+)/.exec(String(request.body))?.[1] ?? '?';
        log.push(`send ${action}`);
        const body =
          action === 'TerminateInstances'
            ? `<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ec2-req-1</requestId><instancesSet><item><instanceId>i-0abc12345</instanceId><currentState><code>32</code><name>shutting-down</name></currentState><previousState><code>16</code><name>running</name></previousState></item></instancesSet></TerminateInstancesResponse>`
            : `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ec2-req-0</requestId><reservationSet/></DescribeInstancesResponse>`;
        return {
          response: {
            statusCode: 200,
            reason: '',
            headers: { 'x-amzn-requestid': `${action}-req`, 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
  return instrumentClient(client);
}

/** An in-memory sink that logs the decision of each write attempt, in order, into `log`. */
function loggingSink(log: string[]) {
  const inner = new InMemoryAuditSink();
  const sink = {
    inner,
    write: async (record: Parameters<InMemoryAuditSink['write']>[0]) => {
      log.push(`write ${record.decision}`);
      return inner.write(record);
    },
  };
  return sink;
}

const terminate = { action: 'instance.terminate', subject: { instanceId: 'i-0abc12345' } };

describe('auditedAction: intent before act', () => {
  it('never sends the mutating call when the intent record cannot be written', async () => {
    const log: string[] = [];
    const ec2 = ec2Answering(log);
    const sink = loggingSink(log);
    sink.inner.failNextWrites(1); // the intent write fails (the failure record, later, is stored)
    const err = await auditedAction(sink, ctx, terminate, async () => {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0abc12345'] }));
      return { decision: 'acted', reason: 'terminated', result: undefined };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(log).not.toContain('send TerminateInstances');
    expect(log).toEqual(['write intended', 'write failed']);
    expect(sink.inner.all()[0]).toMatchObject({ decision: 'failed', calls: [] });
  });

  it('writes "intended" (same record id) before the mutating call, then the outcome over it', async () => {
    const log: string[] = [];
    const ec2 = ec2Answering(log);
    const sink = loggingSink(log);
    const ids: string[] = [];
    const spy = sink.write;
    sink.write = async (record) => {
      ids.push(record.recordId);
      if (record.decision === 'intended')
        expect(record).toMatchObject({
          action: 'instance.terminate',
          subject: { instanceId: 'i-0abc12345' },
          trigger: ctx.trigger,
          details: { intendedCall: 'EC2.TerminateInstances', planned: 'terminate i-0abc12345' },
          correlation: { status: 'not-applicable' },
        });
      return spy(record);
    };
    await auditedAction(sink, ctx, terminate, async () => {
      await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0abc12345'] }));
      declareIntent('orphaned instance past its grace period', { planned: 'terminate i-0abc12345' });
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0abc12345'] }));
      return { decision: 'acted', reason: 'terminated', result: undefined };
    });
    expect(log).toEqual([
      'send DescribeInstances',
      'write intended',
      'send TerminateInstances',
      'write acted',
    ]);
    expect(new Set(ids).size).toBe(1);
    const [record] = sink.inner.all();
    expect(sink.inner.all()).toHaveLength(1);
    expect(record).toMatchObject({ decision: 'acted', reason: 'terminated' });
    expect(record?.calls.map((c) => c.operation)).toEqual(['DescribeInstances', 'TerminateInstances']);
  });

  it('writes one record for a step that only reads and skips', async () => {
    const log: string[] = [];
    const ec2 = ec2Answering(log);
    const sink = loggingSink(log);
    await auditedAction(sink, ctx, terminate, async () => {
      await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0abc12345'] }));
      return { decision: 'skipped', reason: 'still running', result: undefined };
    });
    expect(log).toEqual(['send DescribeInstances', 'write skipped']);
  });

  it('fails the action even when the step swallows the refused call (a handler cannot forget the rule)', async () => {
    const log: string[] = [];
    const ec2 = ec2Answering(log);
    const sink = loggingSink(log);
    sink.inner.failNextWrites(1);
    const err = await auditedAction(sink, ctx, terminate, async () => {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0abc12345'] })).catch(() => undefined);
      return { decision: 'acted', reason: 'carried on', result: undefined };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(log).not.toContain('send TerminateInstances');
    expect(sink.inner.all()).toEqual([expect.objectContaining({ decision: 'failed' })]);
  });

  it("keeps the audit table's own PutItem out of the step's calls (plumbing, no recursion)", async () => {
    const log: string[] = [];
    const ec2 = ec2Answering(log);
    const ddb = instrumentClient(
      new DynamoDBClient({
        region: 'eu-west-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        requestHandler: {
          handle: async () => {
            log.push('send PutItem');
            return {
              response: {
                statusCode: 200,
                reason: '',
                headers: { 'x-amzn-requestid': 'ddb-req', 'content-type': 'application/x-amz-json-1.0' },
                body: Readable.from([Buffer.from('{}')]),
              },
            };
          },
        },
      }),
    );
    const records: string[][] = [];
    const logged = {
      info: (_m: string, extra: Record<string, unknown>) => {
        const r = extra.auditRecord as { decision: string; calls: { operation: string }[] };
        records.push([r.decision, ...r.calls.map((c) => c.operation)]);
      },
    };
    const sink = new DynamoDbAuditSink('audit', ddb, { retentionDays: 1, logger: logged });
    const { calls } = await recordAwsCalls(() =>
      auditedAction(sink, ctx, terminate, async () => {
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0abc12345'] }));
        return { decision: 'acted', reason: 'terminated', result: undefined };
      }),
    );
    expect(log).toEqual(['send PutItem', 'send TerminateInstances', 'send PutItem']);
    expect(records).toEqual([['intended'], ['acted', 'TerminateInstances']]);
    // an enclosing recording (auditedAction inside another step) sees no audit write either
    expect(calls).toEqual([]);
  });
});

describe('auditedAction: actions by decision (the dashboard graphs them per function)', () => {
  it('counts each outcome it records as the metric Decision-<decision>, failures included', async () => {
    const { metrics } = await import('../observability/powertools');
    const counted: string[] = [];
    const add = metrics.addMetric.bind(metrics);
    metrics.addMetric = ((name: string, unit: never, value: number) => {
      counted.push(name);
      return add(name, unit, value);
    }) as typeof metrics.addMetric;
    try {
      const sink = new InMemoryAuditSink();
      const ctx = { function: 'f', trigger: { source: 's', id: 't' }, mode: 'live' as const };
      const subject = { instanceId: 'i-0abc12345' };
      await auditedAction(sink, ctx, { action: 'x.a', subject }, async () => ({
        decision: 'skipped',
        reason: 'nothing to do',
        result: undefined,
      }));
      await auditedAction(sink, ctx, { action: 'x.b', subject }, async () => {
        throw new Error('boom');
      }).catch(() => undefined);
      expect(counted).toEqual(['Decision-skipped', 'Decision-failed']);
    } finally {
      metrics.addMetric = add;
      metrics.clearMetrics();
    }
  });
});
