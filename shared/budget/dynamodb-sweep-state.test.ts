import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbSweepState, LEDGER_ATTEMPTS } from './dynamodb-sweep-state';
import { SweepStateError } from './errors';
import { describeSweepStateContract } from './sweep-state.contract';
import { scriptSweepStateTable } from './testing/fake-sweep-state-table';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

describeSweepStateContract('DynamoDbSweepState (scripted DynamoDB)', (clock) => {
  ddb.reset();
  scriptSweepStateTable(ddb);
  return new DynamoDbSweepState('sweep-state', client, () => clock.now);
});

describe('DynamoDbSweepState: the removal ledger', () => {
  const at = new Date('2026-11-30T08:00:00Z');
  const hour = 3_600_000;
  const reservation = (want: number, limit = 10) => ({
    runId: 'run-1',
    at,
    since: new Date(at.getTime() - hour),
    limit,
    want,
    expiresAt: new Date(at.getTime() + 2 * hour),
  });
  const fresh = () => {
    ddb.reset();
    const items = scriptSweepStateTable(ddb);
    return { items, state: new DynamoDbSweepState('sweep-state', client, () => at.getTime()) };
  };

  it("counts the removals earlier versions recorded one item each (pk 'removals') until they expire", async () => {
    const { items, state } = fresh();
    const legacy = (minutesAgo: number, count: number) => {
      const sk = `${new Date(at.getTime() - minutesAgo * 60_000).toISOString()}#old-run-${minutesAgo}`;
      items.set(`removals\u0000${sk}`, {
        pk: { S: 'removals' },
        sk: { S: sk },
        count: { N: String(count) },
        unconfirmed: { N: '1' },
        expiresAt: { N: String(Math.ceil((at.getTime() + hour) / 1000)) },
      });
    };
    legacy(30, 2);
    legacy(90, 5); // before the window
    expect(await state.removalsSince(new Date(at.getTime() - hour))).toEqual({ total: 2, unconfirmed: 1 });
    expect(await state.reserveRemovals(reservation(9, 3))).toEqual({ spent: 2, granted: 1 });
  });

  it('writes a ledger item that has no revision (restored, hand-made) instead of failing on it forever', async () => {
    const { items, state } = fresh();
    items.set('removal-ledger\u0000head', {
      pk: { S: 'removal-ledger' },
      sk: { S: 'head' },
      entries: { S: '[]' },
    });
    expect(await state.reserveRemovals(reservation(2))).toEqual({ spent: 0, granted: 2 });
    expect(await state.reserveRemovals(reservation(1))).toEqual({ spent: 2, granted: 1 });
  });

  it('refuses, with a clear error, a ledger past the item size it may write', async () => {
    const { items, state } = fresh();
    const entries = Array.from({ length: 8_000 }, (_, i) => [
      `k${String(i).padStart(15, '0')}`,
      at.getTime() - 60_000,
      1,
      0,
      at.getTime() + hour,
    ]);
    items.set('removal-ledger\u0000head', {
      pk: { S: 'removal-ledger' },
      sk: { S: 'head' },
      rev: { S: 'r1' },
      entries: { S: JSON.stringify(entries) },
    });
    const err = await state.reserveRemovals(reservation(1, 10_000)).catch((e) => e);
    expect(err).toBeInstanceOf(SweepStateError);
    expect(err.message).toMatch(/would hold 8001 runs' removals .*shorten removalBudgetWindow/);
  });
});

describe('DynamoDbSweepState', () => {
  it("a removal recorded between a reservation's read and its write is counted: the reservation reads again", async () => {
    ddb.reset();
    scriptSweepStateTable(ddb);
    const at = new Date('2026-11-30T08:00:00Z');
    const state = new DynamoDbSweepState('sweep-state', client, () => at.getTime());
    const approvedRun = new DynamoDbSweepState('sweep-state', client, () => at.getTime());
    // the approved run records its removals after this reservation read the ledger, before it writes
    const internals = state as unknown as { legacySince: (since: Date) => Promise<{ total: number }> };
    const legacy = internals.legacySince.bind(state);
    let first = true;
    internals.legacySince = async (since) => {
      if (first) {
        first = false;
        await approvedRun.recordRemovals(2, 'approved-run', at, new Date(at.getTime() + 7_200_000));
      }
      return legacy(since);
    };
    const r = await state.reserveRemovals({
      runId: 'run-1',
      at,
      since: new Date(at.getTime() - 3_600_000),
      limit: 3,
      want: 3,
      expiresAt: new Date(at.getTime() + 7_200_000),
    });
    expect(r).toEqual({ spent: 2, granted: 1 });
    expect((await state.removalsSince(new Date(at.getTime() - 3_600_000))).total).toBe(3);
  });

  it('gives up with a SweepStateError, nothing granted, when every write loses the ledger to another', async () => {
    ddb.reset();
    scriptSweepStateTable(ddb);
    // a concurrent run writes the ledger between each of this run's reads and its put
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const err = await new DynamoDbSweepState('sweep-state', client)
      .reserveRemovals({
        runId: 'run-1',
        at: new Date('2026-11-30T08:00:00Z'),
        since: new Date('2026-11-30T07:00:00Z'),
        limit: 3,
        want: 1,
        expiresAt: new Date('2026-11-30T10:00:00Z'),
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SweepStateError);
    expect(err.message).toMatch(/5 writes in a row lost the removal ledger/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(LEDGER_ATTEMPTS);
  });

  it('fails with a SweepStateError carrying the cause, never reads a failure as "no removals"', async () => {
    ddb.reset();
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    ddb.on(QueryCommand).rejects(denied);
    const err = await new DynamoDbSweepState('sweep-state', client)
      .removalsSince(new Date(0))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SweepStateError);
    expect(err.cause).toBe(denied);
  });
});
