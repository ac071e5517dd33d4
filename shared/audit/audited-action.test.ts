import { describe, expect, it } from 'vitest';
import { noteGitHubCall } from '../aws/call-recorder';
import { auditedAction } from './audited-action';
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
